/**
 * The dashboard's store pages' domain functions against the real fs store and its upload
 * endpoint: a browser-style upload with the presigned form, confirm, list, download, delete;
 * who may do what in per-device and shared stores; the devices' fetch audit.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { FsStore } from "@fleetdrop/storage/fs";
import { createFsEndpoint } from "@fleetdrop/storage/fs-upload-endpoint";
import { freePort } from "@fleetdrop/test-broker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForbiddenError, NotFoundError, UserInputError } from "@/server/errors";
import { namedStores } from "@/server/stores/named-stores";
import { listStoreFetches } from "@/server/stores/list-store-fetches";
import { listStoreObjects } from "@/server/stores/list-store-objects";
import { confirmStoreUpload, deleteStoreObject, presignStoreUpload, storeObjectDownloadUrl } from "@/server/stores/store-uploads";
import { contextFor, makeDevice, makeProject, makeUser, prisma } from "./fixtures";

let server: Server;

beforeAll(async () => {
  const port = await freePort();
  process.env.FS_PUBLIC_URL = `http://127.0.0.1:${port}`;
  const endpoint = createFsEndpoint({ stores: [...namedStores().values()].map((entry) => entry.store as FsStore) });
  server = createServer((req, res) => {
    if (!endpoint.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  expect((server.address() as AddressInfo).port).toBe(port);
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function world() {
  const admin = await makeUser();
  const member = await makeUser();
  const platform = await makeUser({ isAdmin: true });
  const project = await makeProject([
    { user: admin, role: "admin" },
    { user: member, role: "member" },
    { user: platform, role: "admin" },
  ]);
  const device = await makeDevice(project.id);
  return {
    project,
    device,
    admin: contextFor(admin, project, "admin"),
    member: contextFor(member, project, "member"),
    platform: contextFor(platform, project, "admin"),
  };
}

/** What the browser does with the form (fields first, the file last). */
async function post(form: { url: string; fields: Record<string, string> }, body: string, contentType: string) {
  const data = new FormData();
  for (const [name, value] of Object.entries(form.fields)) data.append(name, value);
  data.append("file", new Blob([body], { type: contentType }), "upload");
  return fetch(form.url, { method: "POST", body: data });
}

describe("store files from the dashboard", () => {
  it("uploads straight to storage with a presigned form, lists, downloads, replaces and deletes in a device's folder", async () => {
    const { admin, device } = await world();
    const target = { ctx: admin, store: "config", device: device.serial };
    const form = await presignStoreUpload({ ...target, path: "nav/params.yaml", contentType: "application/yaml", size: 13 });
    expect(form.key).toBe(`${device.serial}/nav/params.yaml`);
    expect((await post(form, "max_speed: 2\n", "application/yaml")).status).toBe(204);
    expect(await confirmStoreUpload({ ...target, path: "nav/params.yaml" })).toMatchObject({ size: 13 });
    expect(
      await prisma().auditLog.findFirst({ where: { action: "store.put", targetId: `config:${device.serial}/nav/params.yaml` } }),
    ).toMatchObject({ actorLabel: admin.user.email });

    const root = await listStoreObjects(target);
    expect(root).toMatchObject({ folders: ["nav"], objects: [], canWrite: true });
    const nav = await listStoreObjects({ ...target, folder: "nav" });
    expect(nav.objects).toEqual([expect.objectContaining({ path: "nav/params.yaml", name: "params.yaml", size: 13 })]);

    const url = await storeObjectDownloadUrl({ ...target, path: "nav/params.yaml" });
    const response = await fetch(url);
    expect(await response.text()).toBe("max_speed: 2\n");
    expect(response.headers.get("content-disposition")).toContain('filename="params.yaml"');

    // Replacing is uploading to the same path.
    const again = await presignStoreUpload({ ...target, path: "nav/params.yaml", contentType: "application/yaml", size: 13 });
    await post(again, "max_speed: 3\n", "application/yaml");
    await confirmStoreUpload({ ...target, path: "nav/params.yaml" });
    expect(await (await fetch(await storeObjectDownloadUrl({ ...target, path: "nav/params.yaml" }))).text()).toBe("max_speed: 3\n");

    await deleteStoreObject({ ...target, path: "nav/params.yaml" });
    expect((await listStoreObjects(target)).folders).toEqual([]);
    await expect(confirmStoreUpload({ ...target, path: "nav/params.yaml" })).rejects.toThrow(UserInputError);
  });

  it("refuses members, other projects' devices, paths that leave the folder, and oversize forms", async () => {
    const { admin, member, device } = await world();
    const other = await world();
    await expect(listStoreObjects({ ctx: member, store: "config", device: device.serial })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(listStoreObjects({ ctx: admin, store: "config", device: other.device.serial })).rejects.toBeInstanceOf(NotFoundError);
    await expect(listStoreObjects({ ctx: admin, store: "config" })).rejects.toThrow("Choose a device");
    await expect(listStoreObjects({ ctx: admin, store: "nope", device: device.serial })).rejects.toBeInstanceOf(NotFoundError);
    await expect(listStoreObjects({ ctx: admin, store: "config", device: device.serial, folder: "../x" })).rejects.toBeInstanceOf(
      UserInputError,
    );
    await expect(
      presignStoreUpload({
        ctx: admin,
        store: "config",
        device: device.serial,
        path: `../${other.device.serial}/x`,
        contentType: "text/plain",
        size: 1,
      }),
    ).rejects.toThrow(UserInputError);
    await expect(
      presignStoreUpload({
        ctx: admin,
        store: "config",
        device: device.serial,
        path: "big.bin",
        contentType: "application/octet-stream",
        size: 6 * 1024 ** 3,
      }),
    ).rejects.toThrow("up to 5 GiB");
  });

  it("lets only platform administrators change the shared stores", async () => {
    const { admin, platform } = await world();
    const listing = await listStoreObjects({ ctx: admin, store: "apps" });
    expect(listing.canWrite).toBe(false);
    await expect(
      presignStoreUpload({ ctx: admin, store: "apps", path: "nav/1.0/nav.tgz", contentType: "application/gzip", size: 4 }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    const form = await presignStoreUpload({
      ctx: platform,
      store: "apps",
      path: "nav/1.0/nav.tgz",
      contentType: "application/gzip",
      size: 4,
    });
    expect(form.key).toBe("nav/1.0/nav.tgz");
    expect((await post(form, "tgz!", "application/gzip")).status).toBe(204);
    await expect(deleteStoreObject({ ctx: admin, store: "apps", path: "nav/1.0/nav.tgz" })).rejects.toBeInstanceOf(ForbiddenError);
    expect((await listStoreObjects({ ctx: admin, store: "apps", folder: "nav/1.0" })).objects.map((o) => o.name)).toContain("nav.tgz");
  });

  it("shows which devices fetched what, when, from the worker's audit rows", async () => {
    const { admin, project, device } = await world();
    await prisma().auditLog.create({
      data: {
        projectId: project.id,
        actorType: "device",
        actorLabel: device.serial,
        action: "store.download",
        targetType: "store_object",
        targetId: `config:${device.serial}/robot.yaml`,
        details: { store: "config", path: "robot.yaml", size: 9, etag: '"e"' },
      },
    });
    expect(await listStoreFetches({ ctx: admin, store: "config" })).toEqual([
      expect.objectContaining({ device: device.serial, store: "config", path: "robot.yaml", size: 9 }),
    ]);
    expect(await listStoreFetches({ ctx: admin, store: "apps" })).toEqual([]);
  });
});
