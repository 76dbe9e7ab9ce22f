// What the selector tests share: the SelectorError a call throws.
import { SelectorError } from '@k8ts/machinery';

/** The SelectorError `call` throws; fails the test when it throws nothing or something else. */
export function selectorErrorOf(call: () => unknown): SelectorError {
  try {
    call();
  } catch (err) {
    expect(err).toBeInstanceOf(SelectorError);
    return err as SelectorError;
  }
  throw new Error('expected a SelectorError, but nothing was thrown');
}
