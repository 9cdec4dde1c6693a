"use client";
import { useState } from "react";
import { ZDeviceCreateSchema } from "@fleetdrop/shared/dashboard/forms";
import { createDeviceAction } from "@/actions/devices";
import { Dialog } from "@/components/ui/dialog";
import { Field, FormMessage, OneTimeSecret, useActionForm } from "@/components/ui/form";

export function NewDeviceButton({ project, topicPrefix }: { project: string; topicPrefix: string }) {
  const [open, setOpen] = useState(false);
  const [key, setKey] = useState(0);
  return (
    <>
      <button className="btn btn-primary" type="button" onClick={() => { setKey((k) => k + 1); setOpen(true); }}>
        + Add device
      </button>
      <Dialog open={open} onClose={() => setOpen(false)} labelledBy="new-device-title">
        <NewDeviceForm key={key} project={project} topicPrefix={topicPrefix} onClose={() => setOpen(false)} />
      </Dialog>
    </>
  );
}

function NewDeviceForm({ project, topicPrefix, onClose }: { project: string; topicPrefix: string; onClose: () => void }) {
  const { state, pending, onSubmit, errors } = useActionForm(createDeviceAction, ZDeviceCreateSchema);
  if (state?.ok && state.data) {
    return (
      <div>
        <div className="dialog-body">
          <h2 id="new-device-title">Device {state.data.serial} registered</h2>
          <p>Configure the device to connect to the MQTT broker with:</p>
          <dl className="meta" style={{ marginBottom: 12 }}>
            <dt>Username</dt>
            <dd className="mono">{state.data.serial}</dd>
            <dt>Topics</dt>
            <dd className="mono">{topicPrefix}/fleet/{state.data.serial}/…</dd>
          </dl>
          <OneTimeSecret label="Password" value={state.data.password} />
        </div>
        <div className="dialog-actions">
          <button type="button" className="btn btn-primary" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    );
  }
  return (
    <form onSubmit={onSubmit} noValidate>
      <div className="dialog-body">
        <h2 id="new-device-title">Add a device</h2>
        <FormMessage state={state} />
        <input type="hidden" name="project" value={project} />
        <Field label="Serial (device id)" name="serial" error={errors.serial} hint="What the device calls itself on MQTT, e.g. ROBOT-ABC123. Cannot be changed later." autoComplete="off" />
        <Field label="Name" name="name" error={errors.name} placeholder="e.g. Forklift 3" autoComplete="off" />
      </div>
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={pending}>
          {pending ? "Adding…" : "Add device"}
        </button>
      </div>
    </form>
  );
}
