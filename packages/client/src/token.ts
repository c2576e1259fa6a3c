/**
 * The `db` claim of a bearer token (a JWT), read without verifying it: the server verifies
 * it. The database a client talks to when none is named.
 */
export const claimedDatabase = (token: string): string | undefined => {
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const db = (JSON.parse(new TextDecoder().decode(bytes)) as { db?: unknown }).db;
    return typeof db === 'string' ? db : undefined;
  } catch {
    return undefined;
  }
};
