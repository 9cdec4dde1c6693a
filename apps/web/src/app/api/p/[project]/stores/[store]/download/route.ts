import { NextResponse } from "next/server";
import { CAN } from "@/lib/roles";
import { withProject } from "@/server/auth/with-project";
import { storeObjectDownloadUrl } from "@/server/stores/store-uploads";

/** Admins download a store object: a 302 to a signed GET that lives 60 s (audited `store.get`). */
export const GET = withProject<{ project: string; store: string }>(
  async (request, { ctx, params }) => {
    const url = new URL(request.url);
    const signed = await storeObjectDownloadUrl({
      ctx,
      store: params.store,
      device: url.searchParams.get("device"),
      path: url.searchParams.get("path") ?? "",
    });
    return NextResponse.redirect(signed, { status: 302, headers: { "Cache-Control": "no-store" } });
  },
  { role: CAN.manageDevices },
);
