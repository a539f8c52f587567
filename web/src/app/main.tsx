// The dashboard's entry: picks the view from location.pathname.
import { Mentions } from "./views/Mentions";
import { render } from "preact";
import { useEffect } from "preact/hooks";
import { navigate, path } from "./router";
import { Contacts } from "./views/Contacts";
import { Inbox } from "./views/Inbox";
import { Login } from "./views/Login";
import { Monitor } from "./views/Monitor";
import { Settings } from "./views/Settings";
import { Setup } from "./views/Setup";
import { Shell } from "./views/Shell";
import { Visitors } from "./views/Visitors";

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, true), [to]);
  return null;
}

function App() {
  const p = path.value;
  if (p === "/setup" || p === "/setup/") return <Setup />;
  if (p === "/login" || p === "/login/") return <Login />;
  if (p === "/app/settings" || p === "/app/settings/") {
    return (
      <Shell>
        <Settings />
      </Shell>
    );
  }
  if (p === "/app/mentions" || p === "/app/mentions/") {
    return (
      <Shell>
        <Mentions />
      </Shell>
    );
  }
  if (p === "/app/monitor" || p === "/app/monitor/") {
    return (
      <Shell>
        <Monitor />
      </Shell>
    );
  }
  if (p === "/app/visitors" || p === "/app/visitors/") {
    return (
      <Shell>
        <Visitors />
      </Shell>
    );
  }
  if (p === "/app/contacts" || p.startsWith("/app/contacts/")) {
    return (
      <Shell>
        <Contacts />
      </Shell>
    );
  }
  if (p === "/app" || p === "/app/" || p.startsWith("/app/c/")) {
    return (
      <Shell>
        <Inbox />
      </Shell>
    );
  }
  return <Redirect to="/app" />;
}

const root = document.getElementById("root");
if (root) render(<App />, root);
