/**
 * Opens a plain connection with the given factory, as an app's own code (or an older
 * version of it in another tab) would. It ignores `versionchange`: it stays open until
 * closed.
 */
export const openRaw = (
  factory: IDBFactory,
  name: string,
  version?: number,
  upgrade?: (db: IDBDatabase) => void,
): Promise<IDBDatabase> =>
  new Promise((resolve, reject) => {
    const request = factory.open(name, version);
    request.onupgradeneeded = () => upgrade?.(request.result);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

/** A DOMException with the given name, as IndexedDB raises them. */
export const domError = (name: string, message = name): DOMException =>
  new DOMException(message, name);
