"use client";
import { TriangleAlert } from "lucide-react";
import { useId } from "react";
import { ZSendCommandsSchema } from "@/lib/commands-form";
import { sendCommandsAction } from "@/actions/commands";
import { Field, FormMessage, TextAreaField, useActionForm } from "@/components/ui/form";
import { usePresence } from "@/components/devices/presence";
import { Time } from "@/components/ui/time";
import type { TDevicePresence } from "@/lib/presence";

/** Compose a command list for a device's service: one command per line (or a JSON array). */
export function SendCommandsForm({
  project,
  serial,
  defaultService,
  presence: initialPresence,
}: {
  project: string;
  serial: string;
  defaultService: string;
  presence: TDevicePresence;
}) {
  const presence = usePresence(project, serial, initialPresence);
  const { state, pending, onSubmit, errors, formRef } = useActionForm(sendCommandsAction, ZSendCommandsSchema, { resetOnSuccess: false });
  const id = useId();
  const commandsId = `${id}-commands`;
  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate aria-label="Send commands">
      <FormMessage state={state} />
      <input type="hidden" name="project" value={project} />
      <input type="hidden" name="serial" value={serial} />
      <Field
        label="Service"
        name="service"
        defaultValue={defaultService}
        error={errors.service}
        hint="The program on the device that runs them; its report comes back under the same name."
      />
      <TextAreaField
        label="Commands"
        id={commandsId}
        name="commands"
        rows={6}
        className="mono"
        placeholder={"uptime\ndf -h /\nsystemctl restart camera"}
        error={errors.commands}
        hint={
          <>
            One command per line, run in order. Written to <span className="mono">incoming/{serial}/&lt;service&gt;/commands.json</span>.
          </>
        }
        style={{ width: "100%" }}
      />
      {presence.online === false ? (
        <p className="form-warning" role="status" data-testid="commands-offline">
          <TriangleAlert className="icon" aria-hidden="true" /> {serial} is offline (since <Time value={presence.since} relative />
          ): the commands wait in its store and run when it next connects and fetches them.
        </p>
      ) : null}
      <button type="submit" className="btn btn-primary" disabled={pending}>
        {pending ? "Sending…" : presence.online === false ? "Send for later" : "Send to device"}
      </button>
    </form>
  );
}
