import { formatDateTime } from "@/lib/format";
import type { TDeviceCredentials } from "@/server/devices/get-device-credentials";

function certificateState(certificate: TDeviceCredentials["certificates"][number], now: Date): string {
  if (!certificate.revokedAt) return "valid";
  if (new Date(certificate.revokedAt) > now) return `valid until ${formatDateTime(certificate.revokedAt)} (${certificate.revocationReason ?? "revoked"})`;
  return `revoked (${certificate.revocationReason ?? "unspecified"})`;
}

/** The device's sign-in method, its certificates and the credential history (admins). */
export function DeviceCredentialsCard({ credentials }: { credentials: TDeviceCredentials }) {
  const now = new Date();
  return (
    <section className="card" aria-labelledby="device-credentials">
      <div className="card-header">
        <h2 id="device-credentials">Credentials</h2>
      </div>
      <div style={{ padding: 16, display: "grid", gap: 16 }}>
        <dl className="meta">
          <dt>Signs in with</dt>
          <dd>{credentials.authMode === "certificate" ? "X.509 client certificate (CN = serial)" : "password (username = serial)"}</dd>
          <dt>Issued</dt>
          <dd>{formatDateTime(credentials.issuedAt)}</dd>
          {credentials.certificates.map((certificate) => (
            <div key={certificate.fingerprint} style={{ display: "contents" }}>
              <dt>Certificate</dt>
              <dd>
                <span className="mono" title={`SHA-256 ${certificate.fingerprint}`}>{certificate.serialNumber}</span> · expires {formatDateTime(certificate.notAfter)} · {certificateState(certificate, now)}
              </dd>
            </div>
          ))}
        </dl>
        {credentials.events.length > 0 ? (
          <div className="table-wrap">
            <table className="table" aria-label="Credential history">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">What</th>
                  <th scope="col">Method</th>
                  <th scope="col">Who</th>
                </tr>
              </thead>
              <tbody>
                {credentials.events.map((event, index) => (
                  <tr key={`${event.at}-${index}`}>
                    <td className="nowrap">{formatDateTime(event.at)}</td>
                    <td>{event.action}</td>
                    <td>{event.authMode}</td>
                    <td>{event.actor}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </div>
    </section>
  );
}
