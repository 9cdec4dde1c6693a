"use client";
import { TriangleAlert, Upload } from "lucide-react";
import { formatCount } from "@/lib/format";
import { useState } from "react";
import { bulkProvisionDevicesAction } from "@/actions/device-credentials";
import { DialogButton, DialogForm } from "@/components/ui/dialog";
import { TextAreaField, useActionForm } from "@/components/ui/form";
import { MAX_CSV_CHARS, ZDeviceBulkSchema } from "@/lib/device-credential-forms";
import { AuthModeField, CredentialsIssued } from "./issued-credentials";

type TCertificates = { available: boolean; reason?: string };

/** A production line's batch: a CSV of serials in, one credentials bundle out. */
export function BulkDevicesButton({ project, certificates }: { project: string; certificates: TCertificates }) {
  return (
    <DialogButton
      className="btn"
      labelledBy="bulk-devices-title"
      form={(close) => <BulkDevicesForm project={project} certificates={certificates} onClose={close} />}
    >
      <Upload className="icon" aria-hidden="true" /> Add from CSV
    </DialogButton>
  );
}

function BulkDevicesForm({ project, certificates, onClose }: { project: string; certificates: TCertificates; onClose: () => void }) {
  const form = useActionForm(bulkProvisionDevicesAction, ZDeviceBulkSchema);
  const { state, errors } = form;
  const [csv, setCsv] = useState("");
  const [fileError, setFileError] = useState<string | null>(null);
  if (state?.ok && state.data) {
    const batch = state.data;
    return (
      <CredentialsIssued
        titleId="bulk-devices-title"
        title={`${formatCount(batch.count, "device")} registered`}
        bundle={batch.bundle}
        what="one folder per device and a devices.csv summary"
        onClose={onClose}
      >
        <p className="muted mono" style={{ wordBreak: "break-word" }}>
          {batch.serials.slice(0, 10).join(", ")}
          {batch.count > 10 ? `, … (${batch.count - 10} more)` : ""}
        </p>
      </CredentialsIssued>
    );
  }
  return (
    <DialogForm
      form={form}
      titleId="bulk-devices-title"
      title="Add devices from a CSV"
      submit="Register devices"
      submitting="Registering…"
      onClose={onClose}
    >
      <input type="hidden" name="project" value={project} />
      <div className="field">
        <label htmlFor="bulk-file">CSV file</label>
        <input
          id="bulk-file"
          type="file"
          accept=".csv,.txt,text/csv,text/plain"
          onChange={(event) => {
            const file = event.currentTarget.files?.[0];
            setFileError(null);
            if (!file) return;
            if (file.size > MAX_CSV_CHARS) {
              setFileError("The file is larger than 256 KiB: split the batch");
              return;
            }
            void file.text().then(setCsv);
          }}
        />
        <span className="hint">One serial per line, or a header row with the columns serial, name and auth (certificate or password).</span>
        {fileError ? (
          <span className="field-error">
            <TriangleAlert className="icon" aria-hidden="true" /> {fileError}
          </span>
        ) : null}
      </div>
      <TextAreaField
        label="Devices"
        name="csv"
        rows={8}
        className="mono"
        value={csv}
        onChange={(event) => setCsv(event.currentTarget.value)}
        placeholder={"serial,name,auth\nLINE7-0001,Arm 1,certificate\nLINE7-0002,Arm 2,"}
        error={errors.csv}
      />
      <AuthModeField certificates={certificates} error={errors.auth} />
      <p className="hint">Rows without an auth column get this choice. Nothing is created unless every row is valid.</p>
    </DialogForm>
  );
}
