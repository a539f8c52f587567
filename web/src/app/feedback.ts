// What a visitor told through the widget's forms, for the dashboard: a conversation's pre-chat
// answers and rating (`GET /api/v1/conversations/{id}/feedback`), kept current by `feedback`
// frames (store.ts); and a site's forms settings (admins, `…/websites/{id}/forms`).

import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import type { ConversationFeedback } from "../generated/ConversationFeedback";
import type { SiteForms } from "../generated/SiteForms";
import { problemText, request } from "./api";

const conv = (id: string) => "/api/v1/conversations/" + encodeURIComponent(id) + "/feedback";
const site = (id: string) => "/api/v1/websites/" + encodeURIComponent(id) + "/forms";

export const formsApi = {
  feedback: (conversationId: string) => request<ConversationFeedback>("GET", conv(conversationId)),
  get: (siteId: string) => request<SiteForms>("GET", site(siteId)),
  save: (siteId: string, body: SiteForms) => request<SiteForms>("PUT", site(siteId), body),
};

/** The latest `feedback` frame: which conversation, and what it now says. */
const pushed = signal<{ id: string; feedback: ConversationFeedback } | null>(null);

export function feedbackChanged(id: string, feedback: ConversationFeedback) {
  pushed.value = { id, feedback };
}

/** A conversation's feedback: loaded when `id` changes, replaced by frames about it. */
export function useFeedback(id: string): { feedback: ConversationFeedback | null; error: string | null } {
  const [feedback, setFeedback] = useState<ConversationFeedback | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setFeedback(null);
    setError(null);
    formsApi
      .feedback(id)
      .then((f) => live && setFeedback(f))
      .catch((e) => live && setError(problemText(e)));
    return () => {
      live = false;
    };
  }, [id]);
  const p = pushed.value;
  useEffect(() => {
    if (p && p.id === id) setFeedback(p.feedback);
  }, [p, id]);
  return { feedback, error };
}
