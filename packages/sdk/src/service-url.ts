/** The environment variable the clients read the service's address from when `baseUrl` is not given. */
export const SERVICE_URL_VARIABLE = 'VEXIL_URL';

/**
 * The service's base URL: the `baseUrl` option, else `VEXIL_URL`, without trailing
 * slashes; undefined when neither is set. The one place the SDK reads the environment
 * for it, so both clients name and read it alike.
 */
export function serviceUrl(baseUrl: string | undefined): string | undefined {
  const url = baseUrl ?? process.env[SERVICE_URL_VARIABLE];
  return url === undefined || url === '' ? undefined : url.replace(/\/+$/, '');
}
