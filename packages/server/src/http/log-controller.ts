import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * Per-request access lines at debug level (`LOG_LEVEL=debug` shows them): at info
 * they would cost more than answering the request. Every line a request logs
 * carries its id as `request_id`.
 */
export class VexilLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'request_id' });
  }

  override incomingRequest(request: FastifyRequest): void {
    // Checked first: the details object would be built for every request otherwise.
    if (debugging(request)) request.log.debug({ method: request.method, url: request.url }, 'request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) request.log.error({ err: error, status: reply.statusCode }, 'request failed');
    else if (debugging(request)) request.log.debug({ status: reply.statusCode, ms: reply.elapsedTime }, 'response');
  }
}

function debugging(request: FastifyRequest): boolean {
  const log = request.log as FastifyRequest['log'] & { isLevelEnabled?(level: string): boolean };
  return log.isLevelEnabled?.('debug') ?? true;
}
