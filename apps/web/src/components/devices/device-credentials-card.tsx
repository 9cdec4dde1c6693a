import { DataTable } from "@/components/ui/data-table";
import { Time } from "@/components/ui/time";
import type { ReactNode } from "react";
import type { TDeviceCredentials } from "@/server/devices/get-device-credentials";

function certificateState(certificate: TDeviceCredentials["certificates"][number], now: Date): ReactNode {
  if (!certificate.revokedAt) return "valid";
  if (new Date(certificate.revokedAt) > now)
    return (
      <>
        valid until <Time value={certificate.revokedAt} /> ({certificate.revocationReason ?? "revoked"})
      </>
    );
  return `revoked (${certificate.revocationReason ?? "unspecified"})`;
}

/** The device's sign-in method, its certificates and the credential history (admins). */
export function DeviceCredentialsCard({ credentials }: { credentials: TDeviceCredentials }) {
  // oxlint-disable-next-line react/purity -- a Server Component renders once per request: certificate states are as of that request
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
          <dd>
            {credentials.issuedAt ? (
              <Time value={credentials.issuedAt} />
            ) : credentials.addedWithPassword ? (
              <>
                with the device, when it was added (<Time value={credentials.addedAt} />)
              </>
            ) : (
              "not yet: rotate the credentials to issue some"
            )}
          </dd>
          {credentials.certificates.map((certificate) => (
            <div key={certificate.fingerprint} style={{ display: "contents" }}>
              <dt>Certificate</dt>
              <dd>
                <span className="mono" title={`SHA-256 ${certificate.fingerprint}`}>
                  {certificate.serialNumber}
                </span>{" "}
                · expires <Time value={certificate.notAfter} /> · {certificateState(certificate, now)}
              </dd>
            </div>
          ))}
        </dl>
        {credentials.events.length > 0 ? (
          <DataTable
            label="Credential history"
            rows={credentials.events.map((event, index) => ({ ...event, key: `${event.at}-${index}` }))}
            rowKey={(event) => event.key}
            columns={[
              { header: "When", className: "nowrap", cell: (event) => <Time value={event.at} /> },
              { header: "What", primary: true, cell: (event) => event.action },
              { header: "Method", cell: (event) => event.authMode },
              { header: "Who", cell: (event) => event.actor },
            ]}
          />
        ) : null}
      </div>
    </section>
  );
}
