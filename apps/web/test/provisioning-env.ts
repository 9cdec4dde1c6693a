/** Imported first by device-provisioning tests: env.ts reads the environment once, on first use. */
process.env.DEVICE_CA_ENCRYPTION_KEY = Buffer.alloc(32, 9).toString("base64");
process.env.BROKER_CERTIFICATE_URL = "mqtts://mqtt.example.test:8883";
process.env.BROKER_PASSWORD_URL = "mqtts://mqtt.example.test:8884";
