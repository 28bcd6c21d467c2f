import net from 'node:net';

export interface BalancerTarget {
  url: string;
  /** connections handed to this target so far */
  connections: number;
  /** bytes this target sent back (all answers of one scenario are alike, so the shares of bytes are the shares of requests) */
  bytes: number;
}

export interface Balancer {
  /** http://127.0.0.1:<port>, to give a service as the address of what is behind it */
  url: string;
  targets: BalancerTarget[];
  close(): Promise<void>;
}

/**
 * A round-robin TCP balancer on loopback, in the calling process: each new connection goes to the
 * next target and stays there (HTTP keep-alive connections are spread, not single requests, which
 * evens out as long as the caller opens several). The benches put it in front of several instances
 * of a service whose callers know a single address (the gateway's READ_URL).
 */
export async function startBalancer(targetUrls: string[]): Promise<Balancer> {
  if (targetUrls.length === 0) throw new Error('a balancer needs at least one target');
  const targets: BalancerTarget[] = targetUrls.map((url) => ({ url, connections: 0, bytes: 0 }));
  const addresses = targetUrls.map((url) => new URL(url)).map((u) => ({ host: u.hostname, port: Number(u.port) }));
  const sockets = new Set<net.Socket>();
  let next = 0;
  const server = net.createServer({ noDelay: true }, (inbound) => {
    const index = next;
    next = (next + 1) % targets.length;
    const target = targets[index]!;
    target.connections += 1;
    const outbound = net.connect({ ...addresses[index]!, noDelay: true });
    outbound.on('data', (chunk: Buffer) => (target.bytes += chunk.length));
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      // one side gone: end the other, as a direct connection would
      socket.on('error', () => (socket === inbound ? outbound : inbound).destroy());
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    targets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
