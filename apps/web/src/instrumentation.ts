/** Runs once when the server starts, before it answers requests. */
export async function register() {
  // Edge bundles have no sockets; only the Node.js server stamps peer addresses.
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { installPeerAddressHeader } = await import("./server/http/peer-address");
    installPeerAddressHeader();
  }
}
