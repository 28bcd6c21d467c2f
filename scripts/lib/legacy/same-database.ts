/** The servers of a MongoDB URL (host:port, lower case, default port 27017) and the database in its path. */
function partsOf(url: string): { hosts: Set<string>; db: string } {
  const rest = url.replace(/^mongodb(\+srv)?:\/\//, '');
  const [authority = '', path = ''] = rest.split(/\/(.*)/s, 2);
  const hostList = authority.slice(authority.lastIndexOf('@') + 1);
  const hosts = hostList.split(',').map((host) => {
    const withPort = /:\d+$/.test(host) ? host : `${host}:27017`;
    return withPort.toLowerCase().replace(/^localhost:/, '127.0.0.1:');
  });
  return { hosts: new Set(hosts), db: decodeURIComponent(path.split('?')[0] ?? '') };
}

/**
 * True when the older database (`from`, database `db`) is trackme's own (`mongoUrl`): the two
 * `clients` collections would be one, so the import must go into another database.
 */
export function sameDatabase(from: string, db: string, mongoUrl: string): boolean {
  const source = partsOf(from);
  const target = partsOf(mongoUrl);
  return (target.db || 'test') === db && [...source.hosts].some((host) => target.hosts.has(host));
}
