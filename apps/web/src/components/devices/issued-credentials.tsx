"use client";
import { Download, TriangleAlert } from "lucide-react";
import { useState, type ReactNode } from "react";
import { DialogOutcome } from "@/components/ui/dialog";
import { OneTimeSecret } from "@/components/ui/form";

export type TIssuedBundle = { fileName: string; base64: string };

function download(bundle: TIssuedBundle) {
  const bytes = Uint8Array.from(atob(bundle.base64), (char) => char.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/zip" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = bundle.fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Credentials shown once: the password (password devices) and the bundle to download (broker
 * address, CA, certificate + key or password, a ready device config). Nothing of it is kept.
 */
export function IssuedCredentials({ password, bundle, what }: { password?: string; bundle: TIssuedBundle; what: string }) {
  const [downloaded, setDownloaded] = useState(false);
  return (
    <div>
      {password ? <OneTimeSecret label="MQTT password" value={password} /> : null}
      <p className="label" style={{ marginTop: 12 }}>
        Credentials bundle
      </p>
      <p className="hint">
        A zip with {what}: the broker address, its CA, the {password ? "password" : "certificate and private key"} and a ready{" "}
        <code>device.json</code> for the device command. It is offered only now; the platform keeps no copy of the secret.
      </p>
      <button
        type="button"
        className="btn"
        data-testid="download-bundle"
        onClick={() => {
          download(bundle);
          setDownloaded(true);
        }}
      >
        <Download className="icon" aria-hidden="true" /> Download {bundle.fileName}
      </button>
      {downloaded ? (
        <span className="muted" role="status">
          {" "}
          Downloaded.
        </span>
      ) : null}
    </div>
  );
}

/**
 * The end of every dialog that issues credentials (new device, bulk, rotation): what was done,
 * the one-time secret and bundle, and Done.
 */
export function CredentialsIssued({
  titleId,
  title,
  children,
  onClose,
  ...credentials
}: { titleId: string; title: ReactNode; children?: ReactNode; onClose: () => void } & Parameters<typeof IssuedCredentials>[0]) {
  return (
    <DialogOutcome titleId={titleId} title={title} onClose={onClose}>
      {children}
      <IssuedCredentials {...credentials} />
    </DialogOutcome>
  );
}

export const RADIO_LABEL = { display: "flex", alignItems: "center", gap: 8, fontWeight: 400 } as const;
export const RADIO = { width: "auto", minHeight: 0 } as const;

/** Password or certificate, with the certificate choice explained when the server cannot issue one. */
export function AuthModeField({
  certificates,
  error,
  name = "auth",
}: {
  certificates: { available: boolean; reason?: string };
  error?: string;
  name?: string;
}) {
  return (
    <fieldset className="field" style={{ border: 0, padding: 0, margin: "0 0 14px" }}>
      <legend className="label">Credentials</legend>
      <label className="radio" style={RADIO_LABEL}>
        <input style={RADIO} type="radio" name={name} value="password" defaultChecked /> Password
      </label>
      <label className="radio" style={RADIO_LABEL}>
        <input style={RADIO} type="radio" name={name} value="certificate" disabled={!certificates.available} /> X.509 client certificate
      </label>
      <span className="hint">
        The device signs in as its serial: the MQTT user of a password, or the CN of a certificate issued by this project&apos;s device CA.
      </span>
      {!certificates.available ? <span className="hint">{certificates.reason}</span> : null}
      {error ? (
        <span className="field-error" role="alert">
          <TriangleAlert className="icon" aria-hidden="true" /> {error}
        </span>
      ) : null}
    </fieldset>
  );
}
