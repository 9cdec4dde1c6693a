"use client";
import { useEffect } from "react";
import { Dialog } from "@/components/ui/dialog";
import { fileContentUrl } from "@/lib/query/files";
import type { TFileRow } from "@/server/files/list-files";

/** Full-screen image viewer over the images of the current page: ←/→ to move, Esc to close. */
export function Lightbox({
  project,
  images,
  index,
  onIndex,
  canDownload,
}: {
  project: string;
  images: TFileRow[];
  index: number | null;
  onIndex: (index: number | null) => void;
  canDownload: boolean;
}) {
  const image = index === null ? null : images[index];
  useEffect(() => {
    if (index === null) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "ArrowRight" && index < images.length - 1) onIndex(index + 1);
      if (event.key === "ArrowLeft" && index > 0) onIndex(index - 1);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [index, images.length, onIndex]);

  return (
    <Dialog open={Boolean(image)} onClose={() => onIndex(null)} className="lightbox" title={image ? `Image ${image.name}` : "Image viewer"}>
      {image ? (
        <div className="lightbox-inner">
          <div className="lightbox-bar">
            <span>
              <strong>{image.filename}</strong>{" "}
              <span style={{ opacity: 0.7 }}>
                ({index! + 1} of {images.length})
              </span>
            </span>
            <span className="actions">
              {canDownload ? (
                <a className="btn btn-sm" href={fileContentUrl(project, image.id, "attachment")} download>
                  Download
                </a>
              ) : null}
              <button type="button" className="btn btn-sm" onClick={() => onIndex(null)} autoFocus>
                Close
              </button>
            </span>
          </div>
          <div className="lightbox-stage">
            {/* eslint-disable-next-line @next/next/no-img-element */}
            <img src={fileContentUrl(project, image.id, "inline")} alt={image.name} data-testid="lightbox-image" />
          </div>
          <div className="lightbox-bar" style={{ justifyContent: "center" }}>
            <button type="button" className="btn" disabled={index === 0} onClick={() => onIndex(index! - 1)}>
              ← Previous
            </button>
            <button type="button" className="btn" disabled={index === images.length - 1} onClick={() => onIndex(index! + 1)}>
              Next →
            </button>
          </div>
        </div>
      ) : null}
    </Dialog>
  );
}
