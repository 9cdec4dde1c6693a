import type { Metadata } from "next";
import Link from "next/link";
import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import { SessionStateBadge } from "@/components/ui/badges";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { PageHeader } from "@/components/ui/page-header";
import { FilesBrowser } from "@/components/files/files-browser";
import { CaptureButton } from "@/components/sessions/capture-button";
import { RenameSessionButton } from "@/components/sessions/rename-session-button";
import { deleteSessionAction, setSessionKeepAction, setSessionStateAction } from "@/actions/sessions";
import { Download } from "lucide-react";
import { Time } from "@/components/ui/time";
import { formatBytes, formatCount, formatNumber } from "@/lib/format";
import { firstValues, ZFileListQuerySchema } from "@/lib/list-queries";
import { createQueryClient } from "@/lib/query/query-client";
import { filesKeys } from "@/lib/query/keys";
import { CAN, hasRole } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { listFiles } from "@/server/files/list-files";
import { getSession } from "@/server/sessions/get-session";
import { commandsEnabled } from "@/server/mqtt/command-publisher";
import { notFoundOnDomainError } from "@/server/page-errors";

export const metadata: Metadata = { title: "Session" };

export default async function SessionPage({
  params,
  searchParams,
}: {
  params: Promise<{ project: string; sessionId: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { project, sessionId } = await params;
  const ctx = await requireProjectPage(project);
  const session = await notFoundOnDomainError(getSession({ ctx, sessionId }));
  const query = ZFileListQuerySchema.parse(firstValues(await searchParams));

  // Server prefetch of the first view; the browser hydrates it and then polls for changes.
  const queryClient = createQueryClient();
  await queryClient.prefetchQuery({
    queryKey: filesKeys.list(ctx.project.slug, session.id, query),
    queryFn: () => notFoundOnDomainError(listFiles({ ctx, sessionId: session.id, query })),
  });

  const base = `/p/${ctx.project.slug}`;
  const canManage = hasRole(ctx.role, CAN.manageSessions);
  const canDownload = hasRole(ctx.role, CAN.download);
  const canCapture = hasRole(ctx.role, CAN.capture) && commandsEnabled() && session.state === "open" && session.device.enabled;
  const fields = { project: ctx.project.slug, sessionId: session.id };
  const fileCount = formatCount(session.totals.files, "file");

  return (
    <>
      <PageHeader
        crumbs={[
          { label: ctx.project.name, href: `${base}/sessions` },
          { label: "Sessions", href: `${base}/sessions` },
          { label: `${session.name} (#${session.id})` },
        ]}
        title={
          <>
            {session.name} <SessionStateBadge state={session.state} />
            {session.keep ? <span className="badge badge-ok">Keep</span> : null}
            {session.deleting ? <span className="badge badge-danger">Being deleted by retention</span> : null}
          </>
        }
        description={
          <>
            Session #{session.id} of{" "}
            <Link href={`${base}/devices/${encodeURIComponent(session.device.serial)}`}>{session.device.serial}</Link> (
            {session.device.name}) · started <Time value={session.startedAt} />
            {session.endedAt ? (
              <>
                {" "}
                · ended <Time value={session.endedAt} />
              </>
            ) : null}
          </>
        }
        actions={
          <>
            {canCapture ? (
              <CaptureButton
                project={ctx.project.slug}
                sessionId={session.id}
                serial={session.device.serial}
                presence={session.device.presence}
              />
            ) : null}
            {canDownload && session.totals.uploaded > 0 ? (
              <a className="btn btn-primary" href={`/api/p/${ctx.project.slug}/sessions/${session.id}/archive`} download>
                <Download className="icon" aria-hidden="true" /> Download all (.zip)
              </a>
            ) : null}
            {canManage ? (
              <>
                <RenameSessionButton project={ctx.project.slug} sessionId={session.id} name={session.name} />
                {session.deleting ? null : (
                  <ConfirmAction
                    label={session.keep ? "Unmark keep" : "Mark keep"}
                    title={session.keep ? "Let retention rules apply to this session?" : "Keep this session forever?"}
                    action={setSessionKeepAction}
                    fields={{ ...fields, keep: session.keep ? "false" : "true" }}
                    confirmLabel={session.keep ? "Unmark keep" : "Mark keep"}
                  >
                    <p>
                      {session.keep
                        ? "The project's retention rules may delete it again (docs: Retention)."
                        : "No retention rule deletes a session marked keep, however old it is."}
                    </p>
                  </ConfirmAction>
                )}
                {session.state === "open" ? (
                  <ConfirmAction
                    label="Close session"
                    title="Close this session?"
                    action={setSessionStateAction}
                    fields={{ ...fields, state: "closed" }}
                    confirmLabel="Close session"
                  >
                    <p>
                      The device can no longer upload files to it; uploads it tries get a “session closed” error. Files already uploaded
                      stay. You can reopen it later.
                    </p>
                  </ConfirmAction>
                ) : (
                  <ConfirmAction
                    label="Reopen session"
                    title="Reopen this session?"
                    action={setSessionStateAction}
                    fields={{ ...fields, state: "open" }}
                    confirmLabel="Reopen"
                  >
                    <p>The device can upload files to it again.</p>
                  </ConfirmAction>
                )}
                <ConfirmAction
                  label="Delete"
                  title="Delete this session?"
                  danger
                  action={deleteSessionAction}
                  fields={fields}
                  confirmLabel="Delete session and files"
                  typeToConfirm={String(session.id)}
                >
                  <p>
                    This deletes session <strong>#{session.id}</strong> and its <strong>{fileCount}</strong> (
                    {formatBytes(session.totals.bytes)}) — the records here <em>and the stored objects</em>. It cannot be undone.
                  </p>
                </ConfirmAction>
              </>
            ) : null}
          </>
        }
      />
      <dl className="stats">
        <div className="stat">
          <dt>Files</dt>
          <dd>{formatNumber(session.totals.files)}</dd>
        </div>
        <div className="stat">
          <dt>Total size</dt>
          <dd>{formatBytes(session.totals.bytes)}</dd>
        </div>
        <div className="stat">
          <dt>Pending uploads</dt>
          <dd>{formatNumber(session.totals.pending)}</dd>
        </div>
        <div className="stat">
          <dt>Expired / failed</dt>
          <dd>{formatNumber(session.totals.expired + session.totals.failed)}</dd>
        </div>
      </dl>
      <HydrationBoundary state={dehydrate(queryClient)}>
        <FilesBrowser project={ctx.project.slug} sessionId={session.id} canDownload={canDownload} sessionOpen={session.state === "open"} />
      </HydrationBoundary>
    </>
  );
}
