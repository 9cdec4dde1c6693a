/**
 * A batch's payloads as one bytea parameter: each row of the batch's statement takes its bytes
 * with `substring(blob FROM position + 1 FOR length)`. One large parameter costs far less than
 * one parameter per row (chunk and segment batches of up to 256 rows).
 */
export function packPayloads(payloads: Buffer[]): { blob: Buffer; positions: number[] } {
  const positions: number[] = [];
  let position = 0;
  for (const payload of payloads) {
    positions.push(position);
    position += payload.length;
  }
  return { blob: payloads.length === 1 ? payloads[0]! : Buffer.concat(payloads, position), positions };
}
