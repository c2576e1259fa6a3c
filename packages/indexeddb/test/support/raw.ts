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

/** A raw request as a promise. */
export const request = <T>(req: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

/** Every store's names, keys and values, read with the raw API. */
export const readRawDatabase = async (
  factory: IDBFactory,
  name: string,
): Promise<{ version: number; stores: Record<string, { key: IDBValidKey; value: unknown }[]> }> => {
  const db = await request(factory.open(name));
  try {
    const stores: Record<string, { key: IDBValidKey; value: unknown }[]> = {};
    for (const storeName of [...db.objectStoreNames]) {
      const os = db.transaction(storeName, 'readonly').objectStore(storeName);
      const [keys, values] = await Promise.all([request(os.getAllKeys()), request(os.getAll())]);
      stores[storeName] = keys.map((key, i) => ({ key, value: values[i] }));
    }
    return { version: db.version, stores };
  } finally {
    db.close();
  }
};
