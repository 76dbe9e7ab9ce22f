import { ApiError } from '../src/errors';
import { duplicateFields } from '../src/http/body';
import { negotiate } from '../src/http/respond';

export { duplicateFields };

/** negotiate(), or the HTTP code of its refusal. */
export function negotiateOk(accept: string | undefined, table: boolean): string | number {
  try {
    return negotiate(accept, table);
  } catch (err) {
    if (err instanceof ApiError) return err.httpCode;
    throw err;
  }
}
