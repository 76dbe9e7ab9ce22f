import * as grpc from '@grpc/grpc-js';
import { ApiError } from '@k8ts/client';
import { AlreadyReported, CliError, exitCodeOf, formatError } from '../src/errors';

describe('formatError reads like kubectl', () => {
  test('errors from the server carry their reason', () => {
    expect(formatError(new ApiError(grpc.status.NOT_FOUND, 'pods "x" not found'))).toBe('Error from server (NotFound): pods "x" not found\n');
    expect(formatError(new ApiError(grpc.status.ALREADY_EXISTS, 'deployments.apps "web" already exists'))).toBe(
      'Error from server (AlreadyExists): deployments.apps "web" already exists\n',
    );
    expect(
      formatError(new ApiError(grpc.status.PERMISSION_DENIED, 'pods is forbidden: User "system:serviceaccount:a:b" cannot list resource "pods"')),
    ).toBe('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:a:b" cannot list resource "pods"\n');
    expect(formatError(new ApiError(grpc.status.ABORTED, 'Operation cannot be fulfilled on pods "x": the object has been modified'))).toMatch(
      /^Error from server \(Conflict\): /,
    );
  });
  test('invalid objects, missing credentials, unreachable servers', () => {
    expect(formatError(new ApiError(grpc.status.INVALID_ARGUMENT, 'Pod "p" is invalid: spec.containers: Required value', { reason: 'Invalid' }))).toBe(
      'The Pod "p" is invalid: spec.containers: Required value\n',
    );
    expect(formatError(new ApiError(grpc.status.UNAUTHENTICATED, 'no token'))).toBe('error: You must be logged in to the server (Unauthorized)\n');
    expect(formatError(new ApiError(grpc.status.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1'), { server: '127.0.0.1:1' })).toBe(
      'The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n',
    );
  });
  test('local errors', () => {
    expect(formatError(new CliError('the server doesn\'t have a resource type "potatoes"'))).toBe('error: the server doesn\'t have a resource type "potatoes"\n');
    expect(formatError(new CliError('error: already prefixed'))).toBe('error: already prefixed\n');
    expect(formatError(new Error('boom'))).toBe('error: boom\n');
    expect(formatError(Object.assign(new Error('x'), { code: 'ENOENT', path: 'a.yaml' }))).toBe('error: the path "a.yaml" does not exist\n');
  });
  test('exit codes', () => {
    expect(exitCodeOf(new CliError('x'))).toBe(1);
    expect(exitCodeOf(new CliError('x', 3))).toBe(3);
    expect(exitCodeOf(new AlreadyReported(2))).toBe(2);
    expect(exitCodeOf(new Error('x'))).toBe(1);
  });
});
