"use client";
import Link from "next/link";
import { useActionState, useEffect, useState, useTransition } from "react";
import { requestDeviceCaptureAction } from "@/actions/captures";
import { requestCaptureAction } from "@/actions/sessions";

type TCaptureStatus = {
  requestId: string;
  state: "waiting" | "uploading" | "arrived" | "timed_out" | "offline" | "failed";
  sessionId: number;
  device: string;
  secondsLeft: number;
  file: { id: string; filename: string; contentType: string } | null;
};

const FINAL = new Set(["arrived", "timed_out", "failed"]);

/**
 * Asks the device to capture now, then follows the request: waiting (with the time left),
 * uploading, arrived (with the picture), timed out, or device offline. On a session page the
 * file also appears in the live Files list; on a device page it goes to the latest open session.
 */
export function CaptureButton(props: { project: string } & ({ sessionId: number } | { serial: string })) {
  const forDevice = "serial" in props;
  const [state, dispatch, pending] = useActionState((forDevice ? requestDeviceCaptureAction : requestCaptureAction) as typeof requestCaptureAction, null);
  const [, startTransition] = useTransition();
  const requestId = state?.ok ? (state.data as { requestId?: string } | undefined)?.requestId : undefined;
  const status = useCaptureStatus(props.project, requestId);

  return (
    <div className="capture" style={{ display: "inline-flex", flexWrap: "wrap", gap: "0.5rem", alignItems: "center" }}>
      <button
        type="button"
        className="btn"
        disabled={pending || status?.state === "waiting" || status?.state === "uploading"}
        onClick={() => {
          const data = new FormData();
          data.set("project", props.project);
          if (forDevice) data.set("serial", props.serial);
          else data.set("sessionId", String(props.sessionId));
          startTransition(() => dispatch(data));
        }}
      >
        {pending ? "Asking…" : "◉ Request capture"}
      </button>
      {state && !state.ok ? (
        <span role="alert" className="badge badge-danger" style={{ whiteSpace: "normal" }}>
          {state.error}
        </span>
      ) : null}
      {state?.ok && !status ? (
        <span role="status" className="badge badge-info" style={{ whiteSpace: "normal" }}>
          {state.message}
        </span>
      ) : null}
      {status ? <CaptureState project={props.project} status={status} /> : null}
    </div>
  );
}

function useCaptureStatus(project: string, requestId: string | undefined): TCaptureStatus | null {
  const [status, setStatus] = useState<TCaptureStatus | null>(null);
  useEffect(() => {
    setStatus(null);
    if (!requestId) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const response = await fetch(`/api/p/${encodeURIComponent(project)}/captures/${encodeURIComponent(requestId)}`, { cache: "no-store" });
        if (response.ok) {
          const next = (await response.json()) as TCaptureStatus;
          if (stopped) return;
          setStatus(next);
          if (FINAL.has(next.state)) return;
          // Offline devices may still come back: keep looking, but slowly.
          timer = setTimeout(poll, next.state === "offline" ? 5_000 : 1_000);
          return;
        }
      } catch {
        // network hiccup: try again
      }
      if (!stopped) timer = setTimeout(poll, 2_000);
    };
    void poll();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [project, requestId]);
  return status;
}

function CaptureState({ project, status }: { project: string; status: TCaptureStatus }) {
  const fileHref = status.file ? `/p/${encodeURIComponent(project)}/sessions/${status.sessionId}/files/${status.file.id}` : null;
  switch (status.state) {
    case "waiting":
      return (
        <span role="status" className="badge badge-info badge-pulse" data-capture-state="waiting">
          Waiting for {status.device}… ({status.secondsLeft} s)
        </span>
      );
    case "uploading":
      return (
        <span role="status" className="badge badge-info badge-pulse" data-capture-state="uploading">
          {status.device} is uploading {status.file?.filename}…
        </span>
      );
    case "arrived":
      return (
        <span role="status" className="badge badge-ok" data-capture-state="arrived" style={{ display: "inline-flex", gap: "0.5rem", alignItems: "center", whiteSpace: "normal" }}>
          Capture arrived:{" "}
          {fileHref ? <Link href={fileHref}>{status.file!.filename}</Link> : null}
          {status.file?.contentType.startsWith("image/") ? (
            // eslint-disable-next-line @next/next/no-img-element
            <img src={`/api/p/${encodeURIComponent(project)}/files/${status.file.id}/content`} alt={`Capture from ${status.device}`} width={96} height={72} style={{ objectFit: "cover", borderRadius: 4 }} />
          ) : null}
        </span>
      );
    case "timed_out":
      return (
        <span role="alert" className="badge badge-danger" data-capture-state="timed_out" style={{ whiteSpace: "normal" }}>
          No capture from {status.device} within 45 s. Is its capture handler running? Try again.
        </span>
      );
    case "offline":
      return (
        <span role="alert" className="badge badge-grey" data-capture-state="offline" style={{ whiteSpace: "normal" }}>
          {status.device} is offline: the request was sent, but nothing is connected to answer it. It shows here if the device comes back and uploads.
        </span>
      );
    default:
      return (
        <span role="alert" className="badge badge-danger" data-capture-state="failed">
          The capture upload failed.
        </span>
      );
  }
}
