/** The error a call throws; fails the test when it throws nothing. */
export function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw, but it returned');
}
