"use client";
import { WEBHOOK_EVENTS, WEBHOOK_EVENT_TYPES } from "@fleetdrop/shared/webhooks/events";
import { TriangleAlert } from "lucide-react";
import { createWebhookAction, rollWebhookSecretAction, updateWebhookAction } from "@/actions/webhooks";
import { DialogButton, DialogForm, DialogOutcome } from "@/components/ui/dialog";
import { Field, FormMessage, OneTimeSecret, useActionForm } from "@/components/ui/form";
import { EVENT_FIELD_PREFIX, ZWebhookFormSchema } from "@/lib/webhook-forms";

type TExisting = { id: string; url: string; description: string; events: string[] };

/** "+ New endpoint", or "Edit" with `existing`: URL, description and the events wanted. */
export function WebhookFormButton({ project, existing }: { project: string; existing?: TExisting }) {
  return (
    <DialogButton
      className={existing ? "btn btn-sm" : "btn btn-primary"}
      ariaLabel={existing ? `Edit ${existing.url}` : undefined}
      labelledBy="webhook-form-title"
      form={(close) => <WebhookForm project={project} existing={existing} onClose={close} />}
    >
      {existing ? "Edit" : "+ New endpoint"}
    </DialogButton>
  );
}

function WebhookForm({ project, existing, onClose }: { project: string; existing?: TExisting; onClose: () => void }) {
  // Both answer with an optional `data.secret` (only a created endpoint has one to show).
  const action = (existing ? updateWebhookAction : createWebhookAction) as typeof createWebhookAction;
  const form = useActionForm(action, ZWebhookFormSchema);
  const { state, errors } = form;
  if (state?.ok) {
    const secret = state.data?.secret;
    return (
      <DialogOutcome titleId="webhook-form-title" title={existing ? "Endpoint saved" : "Endpoint created"} onClose={onClose}>
        <FormMessage state={state} />
        {secret ? <OneTimeSecret label="Signing secret" value={secret} /> : null}
      </DialogOutcome>
    );
  }
  return (
    <DialogForm
      form={form}
      titleId="webhook-form-title"
      title={existing ? "Edit endpoint" : "New webhook endpoint"}
      submit={existing ? "Save endpoint" : "Create endpoint"}
      submitting="Saving…"
      onClose={onClose}
    >
      <input type="hidden" name="project" value={project} />
      {existing ? <input type="hidden" name="endpointId" value={existing.id} /> : null}
      <Field
        label="URL"
        name="url"
        error={errors.url}
        hint="Events are POSTed here as JSON, signed (Fleetdrop-Signature). Redirects are not followed."
        placeholder="https://hooks.example.com/fleetdrop"
        autoComplete="off"
        defaultValue={existing?.url}
      />
      <Field label="Description" name="description" error={errors.description} autoComplete="off" defaultValue={existing?.description} />
      <fieldset className="fieldset" aria-describedby={errors.events ? "webhook-events-error" : undefined}>
        <legend className="label">Events</legend>
        {WEBHOOK_EVENT_TYPES.map((type) => (
          <div key={type} className="field checkbox">
            <input
              id={`webhook-event-${type}`}
              type="checkbox"
              name={`${EVENT_FIELD_PREFIX}${type}`}
              defaultChecked={existing?.events.includes(type)}
            />
            <label htmlFor={`webhook-event-${type}`}>
              <span className="mono">{type}</span> <span className="muted">— {WEBHOOK_EVENTS[type]}</span>
            </label>
          </div>
        ))}
        {errors.events ? (
          <span id="webhook-events-error" className="field-error">
            <TriangleAlert className="icon" aria-hidden="true" /> {errors.events}
          </span>
        ) : null}
      </fieldset>
    </DialogForm>
  );
}

/** Replaces the signing secret and shows the new one once. */
export function RollSecretButton({ project, endpointId, url }: { project: string; endpointId: string; url: string }) {
  return (
    <DialogButton
      className="btn btn-sm"
      ariaLabel={`Roll secret of ${url}`}
      labelledBy="roll-secret-title"
      form={(close) => <RollSecretForm project={project} endpointId={endpointId} onClose={close} />}
    >
      Roll secret
    </DialogButton>
  );
}

function RollSecretForm({ project, endpointId, onClose }: { project: string; endpointId: string; onClose: () => void }) {
  const form = useActionForm(rollWebhookSecretAction);
  const { state } = form;
  if (state?.ok) {
    const secret = state.data?.secret;
    return (
      <DialogOutcome titleId="roll-secret-title" title="Secret replaced" onClose={onClose}>
        <FormMessage state={state} />
        {secret ? <OneTimeSecret label="New signing secret" value={secret} /> : null}
      </DialogOutcome>
    );
  }
  return (
    <DialogForm
      form={form}
      titleId="roll-secret-title"
      title="Roll the signing secret?"
      submit="Roll secret"
      submitting="Rolling…"
      onClose={onClose}
    >
      <p>
        Deliveries are signed with a new secret from now on; the receiver must be given it. The current secret is not shown again — this is
        how to recover a lost one.
      </p>
      <input type="hidden" name="project" value={project} />
      <input type="hidden" name="endpointId" value={endpointId} />
    </DialogForm>
  );
}
