/** An API answer other than 2xx, with the error body's code, message and the field it names. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly hint: string | undefined;

  constructor(status: number, body: unknown) {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const message = typeof b.message === 'string' ? b.message : `the service answered ${status}`;
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = typeof b.error === 'string' ? b.error : String(status);
    this.field = typeof b.field === 'string' ? b.field : undefined;
    this.hint = typeof b.hint === 'string' ? b.hint : undefined;
  }
}

/** The message to show for any failure: the API's words when it answered. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.hint === undefined ? error.message : `${error.message} (${error.hint})`;
  if (error instanceof Error) return `the service could not be reached: ${error.message}`;
  return String(error);
}
