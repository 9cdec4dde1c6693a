"use client";
import { provisionDeviceAction } from "@/actions/device-credentials";
import { DialogButton, DialogForm } from "@/components/ui/dialog";
import { Field, useActionForm } from "@/components/ui/form";
import { ZDeviceProvisionSchema } from "@/lib/device-credential-forms";
import { AuthModeField, CredentialsIssued } from "./issued-credentials";

type TCertificates = { available: boolean; reason?: string };

export function NewDeviceButton({
  project,
  topicPrefix,
  certificates,
}: {
  project: string;
  topicPrefix: string;
  certificates: TCertificates;
}) {
  return (
    <DialogButton
      labelledBy="new-device-title"
      form={(close) => <NewDeviceForm project={project} topicPrefix={topicPrefix} certificates={certificates} onClose={close} />}
    >
      + Add device
    </DialogButton>
  );
}

function NewDeviceForm({
  project,
  topicPrefix,
  certificates,
  onClose,
}: {
  project: string;
  topicPrefix: string;
  certificates: TCertificates;
  onClose: () => void;
}) {
  const form = useActionForm(provisionDeviceAction, ZDeviceProvisionSchema);
  const { state, errors } = form;
  if (state?.ok && state.data) {
    const device = state.data;
    return (
      <CredentialsIssued
        titleId="new-device-title"
        title={`Device ${device.serial} registered`}
        password={device.password}
        bundle={device.bundle}
        what="this device's configuration"
        onClose={onClose}
      >
        <dl className="meta" style={{ marginBottom: 12 }}>
          <dt>Identity</dt>
          <dd className="mono">{device.authMode === "certificate" ? `certificate CN=${device.serial}` : `username ${device.serial}`}</dd>
          <dt>Topics</dt>
          <dd className="mono">
            {topicPrefix}/fleet/{device.serial}/…
          </dd>
        </dl>
      </CredentialsIssued>
    );
  }
  return (
    <DialogForm form={form} titleId="new-device-title" title="Add a device" submit="Add device" submitting="Adding…" onClose={onClose}>
      <input type="hidden" name="project" value={project} />
      <Field
        label="Serial (device id)"
        name="serial"
        error={errors.serial}
        hint="What the device calls itself on MQTT, e.g. ROBOT-ABC123. Cannot be changed later."
        autoComplete="off"
      />
      <Field label="Name" name="name" error={errors.name} placeholder="e.g. Forklift 3" autoComplete="off" />
      <AuthModeField certificates={certificates} error={errors.auth} />
    </DialogForm>
  );
}
