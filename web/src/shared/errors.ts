import type { ErrorCode } from "../generated/ErrorCode";

// What each error code means for the person in front of the screen. The code itself is shown
// beside it, so a support request can quote it.
const TEXT: Partial<Record<ErrorCode, string>> = {
  message_empty: "The message is empty.",
  message_too_long: "The message is too long (5,000 characters at most).",
  invalid_client_id: "The message could not be sent.",
  invalid_email: "That email address doesn't look right.",
  invalid_name: "That name doesn't look right.",
  invalid_password: "That password is not allowed.",
  invalid_url: "That address doesn't look right.",
  invalid_domain: "That domain doesn't look right.",
  frame_too_large: "The message is too large to send.",
  unknown_site_key: "This chat is not set up for this website.",
  unauthenticated: "Please log in again.",
  invalid_credentials: "Wrong email or password.",
  forbidden: "You are not allowed to do that.",
  csrf_rejected: "The request was refused (wrong origin).",
  not_found: "Not found.",
  already_assigned: "Someone else already took this conversation.",
  invalid_transition: "That is not possible in the conversation's current state.",
  setup_done: "This server is already set up.",
  invalid_setup_token: "The setup link is wrong or has expired.",
  rate_limited: "Too many messages at once; retrying shortly.",
  unavailable: "The server is busy; retrying shortly.",
  internal: "Something went wrong on the server.",
  banned: "Sorry, this chat is not available to you.",
  agent_at_capacity: "That agent already has as many chats as they can take.",
  invalid_settings: "Those settings are not valid.",
  file_too_large: "That file is too large to send.",
  file_type_not_allowed: "That kind of file can't be sent. Try an image, a PDF, a text file or a document.",
  origin_not_allowed: "This chat is not set up for this website.",
};

export function errorText(code: ErrorCode | string, fallback?: string): string {
  return TEXT[code as ErrorCode] ?? fallback ?? "Something went wrong.";
}

/** Errors a sender should retry with the same `client_id` rather than give up on. */
export function isRetryable(code: string): boolean {
  return code === "unavailable" || code === "rate_limited";
}
