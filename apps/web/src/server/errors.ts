/**
 * Errors domain functions throw; wrappers turn them into 404/403/400 responses or form
 * errors. Not found and not allowed to see are the same thing to a caller: NotFoundError.
 */
export class NotFoundError extends Error {
  constructor(what = "Not found") {
    super(what);
    this.name = "NotFoundError";
  }
}

/** Signed in and able to see the thing, but the role does not allow the action. */
export class ForbiddenError extends Error {
  constructor(message = "Your role in this project does not allow this") {
    super(message);
    this.name = "ForbiddenError";
  }
}

/** A request that cannot be done as asked; `field` points a form at the input to fix. */
export class UserInputError extends Error {
  readonly field?: string;
  constructor(message: string, field?: string) {
    super(message);
    this.name = "UserInputError";
    this.field = field;
  }
}
