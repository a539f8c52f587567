// The contact panel's "Pre-chat form" and "Rating" of a conversation: what the visitor answered
// before the chat and how they rated it after. Visitor text is rendered as text (Preact
// children), never as HTML.
import type { AttributeValue } from "../../generated/AttributeValue";
import type { Rating } from "../../generated/Rating";
import { useFeedback } from "../feedback";
import { ErrorNote } from "../ui";

function valueText(v: AttributeValue): string {
  return typeof v === "boolean" ? (v ? "Yes" : "No") : String(v);
}

/** "★ 4/5 · 'Quick and helpful'" */
export function ratingLine(r: Rating): string {
  return "★ " + r.csat + "/5" + (r.comment ? " · “" + r.comment + "”" : "");
}

export function FeedbackPanel({ conversationId }: { conversationId: string }) {
  const { feedback, error } = useFeedback(conversationId);
  if (error) return <ErrorNote text={error} />;
  if (!feedback || (!feedback.form && !feedback.rating)) return null;
  const { form, rating } = feedback;
  return (
    <section class="feedback" aria-label="Visitor's answers and rating" data-testid="feedback-panel">
      {rating && (
        <div class="feedback-rating" data-testid="feedback-rating">
          <h3>Rating</h3>
          <p>
            <strong class="stars" aria-label={"Rated " + rating.csat + " out of 5"}>
              {"★".repeat(rating.csat)}
              <span class="muted">{"★".repeat(5 - rating.csat)}</span>
            </strong>{" "}
            <span data-testid="feedback-csat">{rating.csat}/5</span>
            {rating.ces !== null && (
              <span class="muted" data-testid="feedback-ces">
                {" "}
                · Effort {rating.ces}/5
              </span>
            )}
          </p>
          {rating.comment && (
            <blockquote class="feedback-comment" data-testid="feedback-comment">
              {rating.comment}
            </blockquote>
          )}
        </div>
      )}
      {form && (
        <div data-testid="feedback-form">
          <h3>{form.offline ? "Offline message form" : "Pre-chat form"}</h3>
          <dl class="feedback-answers">
            {form.answers.map((a) => (
              <div key={a.key}>
                <dt>{a.label}</dt>
                <dd data-key={a.key}>{valueText(a.value)}</dd>
              </div>
            ))}
          </dl>
        </div>
      )}
    </section>
  );
}
