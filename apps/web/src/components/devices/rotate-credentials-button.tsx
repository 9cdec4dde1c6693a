"use client";
import { RotateCw, TriangleAlert } from "lucide-react";
import { rotateDeviceCredentialsAction } from "@/actions/device-credentials";
import { DialogButton, DialogForm } from "@/components/ui/dialog";
import { Field, useActionForm } from "@/components/ui/form";
import { ZDeviceRotateSchema } from "@/lib/device-credential-forms";
import { CredentialsIssued, RADIO, RADIO_LABEL } from "./issued-credentials";

type TCertificates = { available: boolean; reason?: string };

/** New credentials for a device; its sessions and files stay. */
export function RotateCredentialsButton({
  project,
  serial,
  authMode,
  certificates,
}: {
  project: string;
  serial: string;
  authMode: "password" | "certificate";
  certificates: TCertificates;
}) {
  return (
    <DialogButton
      className="btn"
      labelledBy="rotate-title"
      form={(close) => <RotateForm project={project} serial={serial} authMode={authMode} certificates={certificates} onClose={close} />}
    >
      <RotateCw className="icon" aria-hidden="true" /> Rotate credentials
    </DialogButton>
  );
}

function RotateForm({
  project,
  serial,
  authMode,
  certificates,
  onClose,
}: {
  project: string;
  serial: string;
  authMode: "password" | "certificate";
  certificates: TCertificates;
  onClose: () => void;
}) {
  const form = useActionForm(rotateDeviceCredentialsAction, ZDeviceRotateSchema);
  const { state, errors } = form;
  if (state?.ok && state.data) {
    return (
      <CredentialsIssued
        titleId="rotate-title"
        title={`New credentials for ${state.data.serial}`}
        password={state.data.password}
        bundle={state.data.bundle}
        what="the device's new configuration"
        onClose={onClose}
      />
    );
  }
  return (
    <DialogForm
      form={form}
      titleId="rotate-title"
      title={`Rotate the credentials of ${serial}?`}
      submit="Issue new credentials"
      submitting="Issuing…"
      onClose={onClose}
    >
      <input type="hidden" name="project" value={project} />
      <input type="hidden" name="serial" value={serial} />
      <p>
        The device keeps its sessions and files.{" "}
        {authMode === "password"
          ? "Its current password stops working at once."
          : "Its current certificate is revoked after the grace period below."}
      </p>
      <fieldset className="field" style={{ border: 0, padding: 0, margin: "0 0 14px" }}>
        <legend className="label">New credentials</legend>
        <label style={RADIO_LABEL}>
          <input style={RADIO} type="radio" name="auth" value="keep" defaultChecked />{" "}
          {authMode === "certificate" ? "A new certificate" : "A new password"}
        </label>
        <label style={RADIO_LABEL}>
          <input
            style={RADIO}
            type="radio"
            name="auth"
            value={authMode === "certificate" ? "password" : "certificate"}
            disabled={authMode === "password" && !certificates.available}
          />
          {authMode === "certificate" ? "Switch to a password" : "Switch to an X.509 client certificate"}
        </label>
        {authMode === "password" && !certificates.available ? <span className="hint">{certificates.reason}</span> : null}
        {errors.auth ? (
          <span className="field-error" role="alert">
            <TriangleAlert className="icon" aria-hidden="true" /> {errors.auth}
          </span>
        ) : null}
      </fieldset>
      {authMode === "certificate" ? (
        <Field
          label="Grace period for the old certificate (hours)"
          name="graceHours"
          type="number"
          min={0}
          max={2160}
          defaultValue={0}
          error={errors.graceHours}
          hint="0 revokes it at once; a grace period lets the fleet roll out the new certificate first."
        />
      ) : null}
    </DialogForm>
  );
}
