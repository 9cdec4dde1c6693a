"use client";
import { useRouter } from "next/navigation";
import { useRef, useState, useTransition, type DragEvent } from "react";
import { confirmStoreUploadAction, presignStoreUploadAction } from "@/actions/stores";
import { formatBytes } from "@/lib/format";

type TItem = { name: string; size: number; sent: number; state: "uploading" | "done" | "failed"; error?: string };

/**
 * Drop files here (or choose them): each goes straight from the browser to storage with a
 * presigned POST (XMLHttpRequest, for upload progress), then the server checks storage has it.
 * A file with the name of an existing one replaces it.
 */
export function StoreUpload({ project, store, device, folder }: { project: string; store: string; device: string | null; folder: string }) {
  const router = useRouter();
  const input = useRef<HTMLInputElement>(null);
  const [items, setItems] = useState<TItem[]>([]);
  const [over, setOver] = useState(false);
  const [, startTransition] = useTransition();

  const update = (index: number, patch: Partial<TItem>) =>
    setItems((list) => list.map((item, i) => (i === index ? { ...item, ...patch } : item)));

  const send = async (files: File[]) => {
    const start = items.length;
    setItems((list) => [...list, ...files.map((file) => ({ name: file.name, size: file.size, sent: 0, state: "uploading" as const }))]);
    for (const [offset, file] of files.entries()) {
      const index = start + offset;
      const path = folder ? `${folder}/${file.name}` : file.name;
      const fields = { project, store, device: device ?? "", path };
      try {
        const form = await presignStoreUploadAction(null, {
          ...fields,
          contentType: file.type || "application/octet-stream",
          size: String(file.size),
        });
        if (!form.ok || !form.data) throw new Error(form.ok ? "no form" : (Object.values(form.fieldErrors ?? {})[0] ?? form.error));
        await postWithProgress(form.data.url, form.data.fields, file, (sent) => update(index, { sent }));
        const confirmed = await confirmStoreUploadAction(null, fields);
        if (!confirmed.ok) throw new Error(confirmed.error);
        update(index, { state: "done", sent: file.size });
      } catch (error) {
        update(index, { state: "failed", error: (error as Error).message });
      }
    }
    // One refresh once every file is done (the actions do not revalidate, so nothing races it).
    startTransition(() => router.refresh());
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    const files = [...event.dataTransfer.files];
    if (files.length > 0) void send(files);
  };

  return (
    <div>
      <div
        className="dropzone"
        data-over={over || undefined}
        onDragOver={(event) => {
          event.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        style={{
          border: `2px dashed ${over ? "#2563eb" : "#c5cfdc"}`,
          borderRadius: 8,
          padding: "1rem",
          textAlign: "center",
          background: over ? "#eff6ff" : undefined,
        }}
      >
        <p style={{ margin: 0 }}>
          Drop files here to upload them into{" "}
          <span className="mono">
            {store}/{device ? `${device}/` : ""}
            {folder ? `${folder}/` : ""}
          </span>
          , or{" "}
          <button type="button" className="btn" onClick={() => input.current?.click()}>
            choose files
          </button>
          . A file with an existing name replaces it.
        </p>
        <input
          ref={input}
          type="file"
          multiple
          hidden
          aria-label="Files to upload"
          onChange={(event) => {
            const files = [...(event.target.files ?? [])];
            event.target.value = "";
            if (files.length > 0) void send(files);
          }}
        />
      </div>
      {items.length > 0 ? (
        <ul aria-label="Uploads" style={{ listStyle: "none", padding: 0 }}>
          {items.map((item, index) => (
            <li key={index} data-state={item.state}>
              <span className="mono">{item.name}</span>{" "}
              <progress max={Math.max(1, item.size)} value={item.sent} aria-label={`Upload of ${item.name}`} />{" "}
              {`${formatBytes(item.sent)} / ${formatBytes(item.size)}`}{" "}
              {item.state === "done" ? <span className="badge badge-ok">Uploaded</span> : null}
              {item.state === "failed" ? (
                <span className="badge badge-danger" role="alert">
                  Failed: {item.error}
                </span>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function postWithProgress(url: string, fields: Record<string, string>, file: File, onProgress: (sent: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
    body.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(new Error(/<Message>([^<]*)<\/Message>/.exec(xhr.responseText)?.[1] ?? `storage answered ${xhr.status}`));
    };
    xhr.onerror = () => reject(new Error("storage could not be reached"));
    xhr.send(body);
  });
}
