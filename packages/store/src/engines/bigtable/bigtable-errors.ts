import { isVexilError, TimeoutError, UnavailableError } from '@vexil/core';

/** gRPC status codes. Internal to the package. */
export const GRPC = {
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Turns a client error into Vexil's: UnavailableError, TimeoutError, or the error itself. */
export function mapError(error: unknown, tableId: string, timeoutMs: number): unknown {
  if (isVexilError(error)) return error;
  let code = grpcCode(error);
  let message = (error as Error | null)?.message ?? String(error);
  // MutateRows reports per-row errors in a PartialFailureError.
  const partial = (error as { errors?: { code?: unknown; message?: string }[] } | null)?.errors;
  if ((error as Error | null)?.name === 'PartialFailureError' && Array.isArray(partial) && partial[0]) {
    code = grpcCode(partial[0]);
    message = partial[0].message ?? message;
    if (/unknown family|family .*not found/i.test(message)) code = GRPC.NOT_FOUND;
  }
  const initHint = `run \`vexil init\` to create the Bigtable tables and column families (${tableId} and Vexil's side table)`;
  if (code === GRPC.NOT_FOUND) {
    return new UnavailableError(`Bigtable table ${tableId} is missing or incomplete: ${message}`, {
      hint: initHint,
      cause: error,
    });
  }
  if (code === GRPC.DEADLINE_EXCEEDED && !/UNAVAILABLE|No connection established/.test(message)) {
    return new TimeoutError(`Bigtable did not answer within ${timeoutMs} ms (table ${tableId}): ${message}`, {
      cause: error,
    });
  }
  if (
    code === GRPC.UNAVAILABLE ||
    code === GRPC.DEADLINE_EXCEEDED ||
    code === GRPC.RESOURCE_EXHAUSTED ||
    code === GRPC.PERMISSION_DENIED ||
    code === GRPC.UNAUTHENTICATED
  ) {
    const hint =
      code === GRPC.PERMISSION_DENIED || code === GRPC.UNAUTHENTICATED
        ? 'check the credentials (Application Default Credentials) and their Bigtable roles'
        : 'check that Bigtable (or the emulator at BIGTABLE_EMULATOR_HOST) is reachable, and PROJECT_ID / INSTANCE_ID';
    return new UnavailableError(`Bigtable is unavailable (table ${tableId}): ${message}`, { hint, cause: error });
  }
  return error;
}
