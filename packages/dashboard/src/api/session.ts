/**
 * The API token, kept in sessionStorage: it lasts while the tab is open, is never sent
 * as a cookie (so no request is made with it unless the dashboard adds it), and is gone
 * when the tab closes.
 */
const KEY = 'vexil.token';

export function storedToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function storeToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
