import { TimeoutError } from '@vexil/core';

/** `work`, or a TimeoutError naming `what` when it takes longer than `ms`. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`Timeout error occurred for : ${what()} (no answer after ${ms} ms)`)),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
