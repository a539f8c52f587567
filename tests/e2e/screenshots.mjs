// Screenshots of the dashboard and the widget as a user would see them: three visitors chat,
// an agent works the inbox. Not a test (no assertions); `node screenshots.mjs` writes out/shot-*.png
// so a person can look at the product after a UI change.
import { startServer, launchBrowser, newPerson, loginAgent, visitorSays, shot, ALICE } from "./harness.mjs";

const server = await startServer("screenshots");
const browser = await launchBrowser();
try {
  const agent = await newPerson(browser, { viewport: { width: 1440, height: 900 } });
  await loginAgent(agent.page, server, ALICE);
  const visitors = [];
  for (const [i, text] of ["Hi! Does the blue jacket come in size M?", "My order #1042 has not arrived yet", "Can I change my delivery address?"].entries()) {
    const v = await newPerson(browser, { viewport: { width: 1280, height: 800 } });
    v.frame = await visitorSays(v, server, text);
    visitors.push(v);
    if (i === 0) await shot(v.page, "shot-widget");
  }
  await agent.page.bringToFront();
  await agent.page.waitForTimeout(800);
  await shot(agent.page, "shot-inbox");
  await agent.page.locator("[data-testid=conv-item]").first().click();
  await agent.page.waitForTimeout(800);
  await shot(agent.page, "shot-conversation");
  for (const path of ["/app/visitors", "/app/monitor", "/app/settings", "/app/mentions"]) {
    await agent.page.goto(server.base + path);
    await agent.page.waitForTimeout(800);
    await shot(agent.page, "shot" + path.replaceAll("/", "-"));
  }
} finally {
  await browser.close();
  await server.stop();
}
