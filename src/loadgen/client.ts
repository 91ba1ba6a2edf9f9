import { Agent, request } from 'node:http';

export interface Response {
  status: number;
  body: string;
}

/** A keep-alive HTTP/1.1 client: cheaper per request than fetch, which matters when the load generator shares the CPU. */
export class HttpClient {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(
    baseUrl: string,
    private readonly timeoutMs: number,
    maxSockets: number,
  ) {
    this.base = new URL(baseUrl);
    if (this.base.protocol !== 'http:') throw new Error(`only http:// URLs are supported, got ${baseUrl}`);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.base.hostname,
          port: this.base.port || 80,
          method,
          path,
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: {
            accept: 'application/json',
            ...(payload && { 'content-type': 'application/json', 'content-length': payload.length }),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no response within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
