"use client";
import { ZProjectCreateSchema } from "@/lib/forms";
import { createProjectAction } from "@/actions/admin";
import { Field, FormMessage, useActionForm } from "@/components/ui/form";

export function CreateProjectForm() {
  const { state, pending, onSubmit, errors } = useActionForm(createProjectAction, ZProjectCreateSchema);
  return (
    <form onSubmit={onSubmit} noValidate aria-labelledby="create-project-title">
      <h2 id="create-project-title" style={{ marginBottom: 12 }}>
        New project
      </h2>
      <FormMessage state={state} />
      <Field label="Name" name="name" error={errors.name} placeholder="e.g. Warehouse robots" />
      <Field label="Address" name="slug" error={errors.slug} hint="Used in links: /p/warehouse-robots" placeholder="warehouse-robots" />
      <button type="submit" className="btn btn-primary" disabled={pending}>
        {pending ? "Creating…" : "Create project"}
      </button>
    </form>
  );
}
