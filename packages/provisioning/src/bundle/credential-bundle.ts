/**
 * The download an admin gets once per device (or per batch): a zip with, per device, a ready
 * config for the device command (`fleetdrop-device --config <serial>/device.json …`), its
 * certificate and key or its password, the CA that signed the broker's certificate, and a
 * README with the broker address and a mosquitto_pub line to try it.
 */
import { zipSync, type Zippable } from "fflate";
import type { TCreatedDevice } from "../devices/create-device";

export type TBrokerEndpoints = {
  /** Where certificate devices connect (mutual TLS), e.g. `mqtts://mqtt.example.com:8883`. */
  certificateUrl: string;
  /** Where password devices connect, e.g. `mqtts://mqtt.example.com:8884`. */
  passwordUrl: string;
  /** The CA of the broker's server certificate, when it is not publicly trusted (PEM). */
  brokerCaPem?: string;
  topicPrefix: string;
  /** 4 for brokers that speak only MQTT 3.1.1 (the embedded one). */
  protocolVersion?: 4 | 5;
};

const text = (value: string) => new TextEncoder().encode(value);
const SECRET = { os: 3, attrs: 0o100600 << 16 } as const;

function hostPort(url: string): { host: string; port: string; tls: boolean } {
  const parsed = new URL(url);
  const tls = parsed.protocol === "mqtts:" || parsed.protocol === "ssl:" || parsed.protocol === "wss:";
  return { host: parsed.hostname, port: parsed.port || (tls ? "8883" : "1883"), tls };
}

function readme(created: TCreatedDevice, broker: TBrokerEndpoints): string {
  const { device, credentials } = created;
  const url = credentials.authMode === "certificate" ? broker.certificateUrl : broker.passwordUrl;
  const { host, port, tls } = hostPort(url);
  const base = `${broker.topicPrefix}/fleet/${device.serial}`;
  const caFlag = broker.brokerCaPem ? " --cafile broker-ca.crt" : tls ? " --capath /etc/ssl/certs" : "";
  const auth =
    credentials.authMode === "certificate" ? " --cert device.crt --key device.key" : ` -u ${device.serial} -P "$(cat password.txt)"`;
  const identity =
    credentials.authMode === "certificate"
      ? `client certificate, CN=${device.serial} (device.crt + device.key)`
      : `username ${device.serial}, password in password.txt`;
  return [
    `Fleetdrop device ${device.serial}${device.name !== device.serial ? ` (${device.name})` : ""}`,
    "",
    `Broker     ${url}`,
    `Identity   ${identity}`,
    `Topics     publish under ${base}/ , subscribe to ${base}/#`,
    ...(broker.brokerCaPem ? ["Broker CA  broker-ca.crt (verify the broker's certificate with it)"] : []),
    "",
    "Keep this folder secret: it is the device's identity. The platform does not keep a copy of",
    credentials.authMode === "certificate"
      ? "the private key; if it is lost, rotate the device's credentials."
      : "the password; if it is lost, rotate the device's credentials.",
    "",
    // Files go into a session of this device: another device's session answers session_not_owned.
    "Upload a file with the device command: open a session of this device first (it prints the",
    "session's id), then upload into it:",
    `  SESSION=$(fleetdrop-device session open --config device.json --name "first upload")`,
    `  fleetdrop-device upload --config device.json --session "$SESSION" ./some-file.jpg`,
    "(or use the id of a session an admin opened for this device in the dashboard)",
    "",
    "Or by hand: open a session, then ask for an upload form with the session_id it answered:",
    `  mosquitto_sub -h ${host} -p ${port}${caFlag}${auth} -i ${device.serial}-sub -t '${base}/#' -v &`,
    `  mosquitto_pub -h ${host} -p ${port}${caFlag}${auth} -i ${device.serial} -q 1 -t '${base}/session/open' -m '{"name":"first upload"}'`,
    `  mosquitto_pub -h ${host} -p ${port}${caFlag}${auth} -i ${device.serial} -q 1 ` +
      `-t '${base}/file_upload/request' -m '{"session_id":SESSION_ID,"filename":"hello.txt"}'`,
    "",
  ].join("\n");
}

function deviceFiles(created: TCreatedDevice, broker: TBrokerEndpoints): Zippable {
  const { device, credentials } = created;
  const files: Zippable = {};
  const config: Record<string, unknown> = {
    url: credentials.authMode === "certificate" ? broker.certificateUrl : broker.passwordUrl,
    deviceId: device.serial,
    topicPrefix: broker.topicPrefix,
    ...(broker.protocolVersion ? { protocolVersion: broker.protocolVersion } : {}),
    ...(broker.brokerCaPem ? { ca: "broker-ca.crt" } : {}),
  };
  if (credentials.authMode === "certificate") {
    Object.assign(config, { cert: "device.crt", key: "device.key" });
    files["device.crt"] = text(credentials.certificatePem);
    files["device.key"] = [text(credentials.privateKeyPem), SECRET];
  } else {
    config.password = credentials.password;
    files["password.txt"] = [text(`${credentials.password}\n`), SECRET];
  }
  files["device.json"] = [text(`${JSON.stringify(config, null, 2)}\n`), SECRET];
  if (broker.brokerCaPem) files["broker-ca.crt"] = text(broker.brokerCaPem);
  files["README.txt"] = text(readme(created, broker));
  return files;
}

function summaryCsv(devices: TCreatedDevice[]): string {
  const rows = devices.map(({ device, credentials }) =>
    [
      device.serial,
      device.name,
      credentials.authMode,
      ...(credentials.authMode === "certificate"
        ? [credentials.serialNumber, credentials.fingerprint, credentials.notAfter.toISOString()]
        : ["", "", ""]),
    ]
      .map((cell) => (/[",\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell))
      .join(","),
  );
  return `${["serial,name,auth,certificate_serial,certificate_sha256,certificate_not_after", ...rows].join("\n")}\n`;
}

/** A zip with one folder per device (and `devices.csv`, without secrets, for a batch). */
export function createCredentialBundle(devices: TCreatedDevice[], broker: TBrokerEndpoints): Uint8Array {
  const tree: Zippable = {};
  for (const created of devices) tree[created.device.serial] = deviceFiles(created, broker);
  if (devices.length > 1) tree["devices.csv"] = text(summaryCsv(devices));
  return zipSync(tree, { level: 6 });
}

/** The bundle's file name: `<serial>-credentials.zip`, or `<n>-devices-credentials.zip`. */
export function bundleFileName(devices: TCreatedDevice[]): string {
  return devices.length === 1 ? `${devices[0]!.device.serial}-credentials.zip` : `${devices.length}-devices-credentials.zip`;
}
