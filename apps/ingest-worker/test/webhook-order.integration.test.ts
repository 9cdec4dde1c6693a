/**
 * A device's webhook events are delivered in order even when two transactions write them
 * concurrently and commit in the other order than they took their delivery ids: the outbox's
 * reader (nextDeliveries) never hands out a later delivery while an earlier one of the lane may
 * still commit, and never skips it. Real PostgreSQL, two connections held open by hand.
 */
import type { TPrismaClient } from "@fleetdrop/db";
import type { Pool, PoolClient } from "@fleetdrop/db/pool";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueEvent, nextDeliveries, type TWebhookLane } from "../src/webhooks/outbox-db";
import { createOutboxFixture, type TOutboxFixture } from "./support/outbox-fixture";

let fixture: TOutboxFixture;
let prisma: TPrismaClient;
let pool: Pool;
let projectId: string;
let deviceId: string;
let lane: TWebhookLane;

beforeAll(async () => {
  fixture = await createOutboxFixture("webhook-order");
  ({ prisma, pool } = fixture);
  const { project, device } = fixture;
  const endpoint = await prisma.webhookEndpoint.create({
    data: { projectId: project.id, url: "http://127.0.0.1:9/hook", secret: "whsec_test", events: ["session.opened"] },
  });
  projectId = project.id;
  deviceId = device.id;
  // The lane as it is after the device's first event. (Its first insert makes a second writer
  // wait for the first one's commit on the lane's key; the writers after that do not wait.)
  await prisma.webhookLane.create({ data: { endpointId: endpoint.id, laneKey: device.id } });
  lane = {
    endpointId: endpoint.id,
    laneKey: device.id,
    url: endpoint.url,
    secret: endpoint.secret,
    maxAttempts: 12,
    timeoutMs: 1000,
    projectId,
    projectSlug: project.slug,
  };
});

afterAll(async () => {
  await fixture?.close();
});

async function begin(): Promise<PoolClient> {
  const client = await pool.connect();
  await client.query("BEGIN");
  return client;
}

const enqueue = (tx: Pool | PoolClient, n: number) => enqueueEvent(tx, { projectId, deviceId, type: "session.opened", data: { n } });
const pendingNumbers = async () => (await nextDeliveries(pool, lane, 20)).map((item) => item.data.n);

async function deliverAll() {
  await prisma.webhookDelivery.updateMany({ where: { endpointId: lane.endpointId, state: "pending" }, data: { state: "delivered" } });
}

describe("a device's events written by concurrent transactions", () => {
  it("are not read past an earlier delivery whose transaction commits after a later one's", async () => {
    const first = await begin();
    const second = await begin();
    try {
      await enqueue(first, 1); // takes the lower delivery id
      await enqueue(second, 2);
      await second.query("COMMIT");
      // Event 2 is committed, event 1 not yet: handing out 2 now would deliver it before 1.
      expect(await pendingNumbers()).toEqual([]);
      await first.query("COMMIT");
      expect(await pendingNumbers()).toEqual([1, 2]);
    } finally {
      first.release();
      second.release();
    }
    await deliverAll();
  });

  it("leave nothing behind for an earlier transaction that rolls back, and deliver the rest in order", async () => {
    const first = await begin();
    const second = await begin();
    try {
      await enqueue(first, 3);
      await enqueue(second, 4);
      await second.query("COMMIT");
      expect(await pendingNumbers()).toEqual([]);
      await first.query("ROLLBACK");
      expect(await pendingNumbers()).toEqual([4]);
    } finally {
      first.release();
      second.release();
    }
    await deliverAll();
  });

  it("do not wait for each other, and a lane with no open writer is read at once", async () => {
    const first = await begin();
    const second = await begin();
    try {
      // Both writers hold the lane at once (a shared lock): neither blocks the other.
      await enqueue(first, 5);
      await enqueue(second, 6);
      await enqueue(first, 7);
      await Promise.all([first.query("COMMIT"), second.query("COMMIT")]);
    } finally {
      first.release();
      second.release();
    }
    await enqueue(pool, 8);
    expect(await pendingNumbers()).toEqual([5, 6, 7, 8]);
    await deliverAll();
  });
});
