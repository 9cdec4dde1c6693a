"use client";
import Link from "next/link";
import { useActionState, useEffect, useState, useTransition } from "react";
import { Camera, X } from "lucide-react";
import { requestDeviceCaptureAction } from "@/actions/captures";
import { requestCaptureAction } from "@/actions/sessions";
import { usePresence } from "@/components/devices/presence";
import type { TDevicePresence } from "@/lib/presence";

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
 * The request's progress shows in a panel at the bottom of the window, not next to the button:
 * a picture arriving must not push the page's other buttons around.
 */
export function CaptureButton(
  props: { project: string; serial: string; presence: TDevicePresence } & ({ sessionId: number } | { sessionId?: undefined }),
) {
  const forDevice = props.sessionId === undefined;
  // Known offline (Last Will, broker disconnect, expired): say so at once rather than after a 45 s wait.
  const presence = usePresence(props.project, props.serial, props.presence);
  const offline = presence.online === false;
  const [state, dispatch, pending] = useActionState(
    (forDevice ? requestDeviceCaptureAction : requestCaptureAction) as typeof requestCaptureAction,
    null,
  );
  const [, startTransition] = useTransition();
  const requestId = state?.ok ? (state.data as { requestId?: string } | undefined)?.requestId : undefined;
  const status = useCaptureStatus(props.project, requestId);
  // The panel closes when dismissed and opens again with the next request.
  const [dismissed, setDismissed] = useState<unknown>(null);
  const showPanel = state !== null && dismissed !== state;

  return (
    <>
      <button
        type="button"
        className="btn"
        disabled={offline || pending || status?.state === "waiting" || status?.state === "uploading"}
        title={offline ? `${props.serial} is offline: it cannot take a capture now` : undefined}
        onClick={() => {
          const data = new FormData();
          data.set("project", props.project);
          if (forDevice) data.set("serial", props.serial);
          else data.set("sessionId", String(props.sessionId));
          startTransition(() => dispatch(data));
        }}
      >
        <Camera className="icon" aria-hidden="true" />
        {offline ? "Device offline" : pending ? "Asking…" : "Request capture"}
      </button>
      {showPanel ? (
        <div className="toast" role="region" aria-label="Capture request">
          <div className="toast-head">
            <strong>Capture</strong>
            <button type="button" className="btn btn-sm btn-ghost" onClick={() => setDismissed(state)} aria-label="Close the capture panel">
              <X className="icon" aria-hidden="true" />
            </button>
          </div>
          {!state.ok ? (
            <p role="alert" className="form-error" style={{ margin: 0 }}>
              {state.error}
            </p>
          ) : status ? (
            <CaptureState project={props.project} status={status} />
          ) : (
            <p role="status">{state.message}</p>
          )}
        </div>
      ) : null}
    </>
  );
}

function useCaptureStatus(project: string, requestId: string | undefined): TCaptureStatus | null {
  const [status, setStatus] = useState<TCaptureStatus | null>(null);
  // Another request starts from no status (reset while rendering: no extra effect pass).
  const [statusOf, setStatusOf] = useState({ project, requestId });
  if (statusOf.project !== project || statusOf.requestId !== requestId) {
    setStatusOf({ project, requestId });
    setStatus(null);
  }
  useEffect(() => {
    if (!requestId) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const response = await fetch(`/api/p/${encodeURIComponent(project)}/captures/${encodeURIComponent(requestId)}`, {
          cache: "no-store",
        });
        if (response.ok) {
          const next = (await response.json()) as TCaptureStatus;
          if (stopped) return;
          setStatus(next);
          if (FINAL.has(next.state)) return;
          // Offline devices may still come back: keep looking, but slowly.
          timer = setTimeout(() => void poll(), next.state === "offline" ? 5_000 : 1_000);
          return;
        }
      } catch {
        // network hiccup: try again
      }
      if (!stopped) timer = setTimeout(() => void poll(), 2_000);
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
        <p role="status" data-capture-state="waiting">
          <span className="badge badge-info badge-pulse">Waiting</span> Waiting for {status.device}… ({status.secondsLeft} s)
        </p>
      );
    case "uploading":
      return (
        <p role="status" data-capture-state="uploading">
          <span className="badge badge-info badge-pulse">Uploading</span> {status.device} is uploading {status.file?.filename}…
        </p>
      );
    case "arrived":
      return (
        <div role="status" data-capture-state="arrived" style={{ display: "grid", gap: 8 }}>
          <p>
            <span className="badge badge-ok">Arrived</span> {fileHref ? <Link href={fileHref}>{status.file!.filename}</Link> : null}
          </p>
          {status.file?.contentType.startsWith("image/") ? (
            // eslint-disable-next-line @next/next/no-img-element
            <img
              src={`/api/p/${encodeURIComponent(project)}/files/${status.file.id}/content`}
              alt={`Capture from ${status.device}`}
              width={320}
              height={240}
            />
          ) : null}
        </div>
      );
    case "timed_out":
      return (
        <p role="alert" className="form-error" style={{ margin: 0 }} data-capture-state="timed_out">
          No capture from {status.device} within 45 s. Is its capture handler running? Try again.
        </p>
      );
    case "offline":
      return (
        <p role="alert" data-capture-state="offline">
          {status.device} is offline: the request was sent, but nothing is connected to answer it. It shows here if the device comes back
          and uploads.
        </p>
      );
    default:
      return (
        <p role="alert" className="form-error" style={{ margin: 0 }} data-capture-state="failed">
          The capture upload failed.
        </p>
      );
  }
}
