// How a node calls another node's /v1/rpc/ endpoints (and health probes). The real transport is
// mutual TLS with the root API key (peer-https-transport.ts); tests may substitute their own.

/** A peer's answer: HTTP status and the parsed JSON body (undefined when empty or not JSON). */
export interface PeerReply { status: number, body: unknown }

export interface PeerTransport {
  /**
   * Sends a request to `host` (`host:port`) and resolves with any HTTP answer. Rejects only when no
   * answer arrived (connection, TLS, timeout after `timeoutMs`), with a message fit for a log line.
   */
  call (host: string, method: 'GET' | 'POST', path: string, body: unknown, timeoutMs: number): Promise<PeerReply>
}

/** The `message` of an error body, or a fallback. */
export function replyMessage (reply: PeerReply): string {
  const b = reply.body as { message?: unknown } | undefined
  return typeof b?.message === 'string' ? b.message : `HTTP ${reply.status}`
}

/** The transport of a node with the `refuse-peers` fault: every call fails as if no peer answered. */
export class RefusingPeerTransport implements PeerTransport {
  async call (host: string): Promise<PeerReply> {
    throw new Error(`internode calls to ${host} are disabled (fault refuse-peers)`)
  }
}
