/**
 * The broker connection every service of the platform uses (the worker, the web app): the URL,
 * the service account and the topic prefix. Unset MQTT_URL means "no broker" to the web app; the
 * worker falls back to DEFAULT_MQTT_URL.
 */
import { z } from "zod";
import { DEFAULT_TOPIC_PREFIX, assertTopicPrefix } from "./topics";

export const DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883";

export const ZMqttEnvSchema = z.object({
  MQTT_URL: z
    .string()
    .regex(/^(mqtts?|wss?|tcp|ssl):\/\//, "must be an mqtt://, mqtts://, ws:// or wss:// URL")
    .optional(),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  TOPIC_PREFIX: z
    .string()
    .superRefine((value, ctx) => {
      try {
        assertTopicPrefix(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
      }
    })
    .default(DEFAULT_TOPIC_PREFIX),
});

export type TMqttEnv = z.infer<typeof ZMqttEnvSchema>;
export type TMqttEnvInput = z.input<typeof ZMqttEnvSchema>;
