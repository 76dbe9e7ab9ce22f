// The store's key layout (keys.ts): where each object, allocation and apiserver lease lives.
export {
  MASTER_LEASES_PREFIX,
  NODE_PORT_PREFIX,
  SERVICE_IP_PREFIX,
  STORAGE_PREFIX,
  isAllocationKey,
  masterLeaseKey,
  nodePortKey,
  objectKey,
  parseObjectKey,
  resourcePrefix,
  serviceIPKey,
} from './keys';
export type { ObjectKeyParts, StoredKind } from './keys';
