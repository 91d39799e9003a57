// spdy-transport ships no types; the streams code declares the little it uses (portforward.ts).
declare module 'spdy-transport' {
  import type { Duplex } from 'node:stream';
  const transport: {
    connection: {
      create(socket: Duplex, options: { protocol: 'spdy' | 'http2'; isServer: boolean; autoSpdy31?: boolean; windowSize?: number }): unknown;
    };
  };
  export default transport;
}
