// Files in real browsers: a visitor picks an image in the widget and the agent sees its preview
// in the dashboard; the agent pastes a PDF into the reply box and drops an image on the
// conversation, and the visitor gets both; a visitor who drops an SVG is told in plain words
// that it cannot be sent.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deflateSync } from "node:zlib";
import {
  eventually,
  launchBrowser,
  loginAgent,
  newPerson,
  shot,
  startServer,
  waitForCount,
  visitorSays,
} from "./harness.mjs";

// --- a real PNG, drawn here ------------------------------------------------------------------------
const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** A `w`×`h` RGB PNG: a sky-to-sea gradient with a sun, so a preview is plainly an image. */
function png(w, h) {
  const rows = [];
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + 3 * w);
    for (let x = 0; x < w; x++) {
      const sun = (x - w * 0.7) ** 2 + (y - h * 0.35) ** 2 < (h * 0.16) ** 2;
      const sea = y > h * 0.62;
      const px = sun ? [250, 204, 21] : sea ? [30, 64 + (y * 60) / h, 175] : [99 + (y * 80) / h, 102 + (y * 90) / h, 241];
      row.set(px.map(Math.round), 1 + 3 * x);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const PHOTO = png(320, 200);
const PDF = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>';

/**
 * Dispatches a synthetic paste (`kind` "paste", on `selector`) or drop (`kind` "drop": dragenter,
 * dragover and drop) carrying one file, as the browser does for a real one.
 */
async function fileEvent(target, kind, selector, file) {
  await target.evaluate(
    ({ kind, selector, name, type, bytes }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], name, { type }));
      const el = document.querySelector(selector);
      if (!el) throw new Error("no " + selector);
      if (kind === "paste") {
        el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
        return;
      }
      for (const t of ["dragenter", "dragover", "drop"]) {
        el.dispatchEvent(new DragEvent(t, { dataTransfer: dt, bubbles: true, cancelable: true }));
      }
    },
    { kind, selector, name: file.name, type: file.type, bytes: [...file.bytes] },
  );
}

/** Whether an <img> has loaded real pixels. */
const loaded = (img) => img.evaluate((i) => i.complete && i.naturalWidth > 0);

// A refused upload is a 415 response, which Chromium also logs to the console.
const harmless = (line) => /favicon\.ico|status of 415/.test(line);

describe("files", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer("files");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("a visitor's image shows as a preview on both sides; the agent pastes and drops files back", async () => {
    const agent = await newPerson(browser);
    const visitor = await newPerson(browser);
    await agent.page.bringToFront();
    await loginAgent(agent.page, server);

    await visitor.page.bringToFront();
    const frame = await visitorSays(visitor, server, "My mug arrived broken");
    // The paperclip opens the file picker; the file uploads into the tray above the box.
    await frame.getByTestId("fd-attach").waitFor();
    await frame.getByTestId("fd-file-input").setInputFiles({ name: "broken mug.png", mimeType: "image/png", buffer: PHOTO });
    const chip = frame.getByTestId("fd-upload");
    await eventually("the upload to be ready", async () => (await chip.getAttribute("data-state")) === "ready");
    assert.match(await chip.textContent(), /broken mug\.png/);
    // An image alone is a message: no text needed.
    await frame.getByTestId("fd-send").click();
    const sent = frame.locator('[data-testid="fd-message"][data-kind="visitor"]:not([data-pending]) [data-testid="fd-file"]');
    await sent.waitFor();
    assert.equal(await sent.getAttribute("data-name"), "broken mug.png");
    const thumb = sent.locator("img");
    await eventually("the widget's thumbnail to load", () => loaded(thumb));
    assert.match(await thumb.getAttribute("src"), /^blob:/, "the widget shows the bytes it fetched with its token");
    await waitForCount(chip, 0, "the tray to empty");
    await shot(visitor.page, "files-widget");

    // The agent sees the preview in the thread, and the file in the list's preview.
    await agent.page.bringToFront();
    const row = agent.page.getByTestId("conv-item").filter({ hasText: "broken mug.png" });
    await row.waitFor();
    await row.click();
    const preview = agent.page.locator('[data-testid="msg"][data-kind="visitor"] [data-testid="msg-file"]');
    await preview.waitFor();
    assert.equal(await preview.getAttribute("data-name"), "broken mug.png");
    const img = preview.locator("img");
    await eventually("the dashboard's preview to load", () => loaded(img));
    assert.deepEqual(await img.evaluate((i) => [i.naturalWidth, i.naturalHeight]), [320, 200]);

    // Paste a PDF into the reply box, drop an image on the conversation, and send both.
    await agent.page.getByTestId("composer").click();
    await fileEvent(agent.page, "paste", "#reply-box", { name: "receipt.pdf", type: "application/pdf", bytes: PDF });
    await fileEvent(agent.page, "drop", 'section.pane[aria-label="Conversation"]', { name: "replacement.png", type: "image/png", bytes: png(160, 120) });
    const uploads = agent.page.getByTestId("upload");
    await waitForCount(uploads, 2, "two files in the tray");
    await eventually("both uploads to be ready", async () => (await agent.page.locator('[data-testid="upload"][data-state="ready"]').count()) === 2);
    await shot(agent.page, "files-dashboard-tray");
    await agent.page.getByTestId("composer").fill("Sorry about that! Here is your receipt; a new one is on its way.");
    await agent.page.getByTestId("send").click();
    const reply = agent.page.locator('[data-testid="msg"][data-kind="agent"]:not([data-pending])', { hasText: "Here is your receipt" });
    await reply.waitFor();
    await waitForCount(reply.getByTestId("msg-file"), 2, "both files on the reply");
    await waitForCount(uploads, 0, "the tray to empty");
    await eventually("the reply's image to load", () => loaded(reply.locator("img")));
    await shot(agent.page, "files-dashboard");

    // The visitor gets the reply: the PDF as a chip with its size, the image as a thumbnail.
    await visitor.page.bringToFront();
    const answer = frame.locator('[data-testid="fd-message"][data-kind="agent"]', { hasText: "Here is your receipt" });
    await answer.waitFor();
    const pdf = answer.locator('[data-testid="fd-file"][data-name="receipt.pdf"]');
    await pdf.waitFor();
    assert.match(await pdf.textContent(), /receipt\.pdf.*bytes/);
    await eventually("the reply's thumbnail in the widget to load", () => loaded(answer.locator("img")));
    // Clicking the chip downloads the file under its name.
    const [download] = await Promise.all([visitor.page.waitForEvent("download"), pdf.click()]);
    assert.equal(download.suggestedFilename(), "receipt.pdf");
    await shot(visitor.page, "files-widget-reply");

    for (const p of [agent, visitor]) {
      assert.deepEqual(p.pageErrors, []);
      assert.deepEqual(p.consoleErrors.filter((l) => !harmless(l)), []);
      assert.deepEqual(p.dialogs, []);
    }
  });

  it("a visitor who drops an SVG is told it cannot be sent, and nothing is sent", async () => {
    const visitor = await newPerson(browser);
    await visitor.page.bringToFront();
    const frame = await visitorSays(visitor, server, "Here is our logo");
    const frameHandle = visitor.page.frames().find((f) => f.url().includes("/widget/frame.html"));
    assert.ok(frameHandle, "the chat frame");
    await fileEvent(frameHandle, "drop", "#scroll", { name: "logo.svg", type: "image/svg+xml", bytes: Buffer.from(SVG) });
    const chip = frame.getByTestId("fd-upload");
    await eventually("the upload to be refused", async () => (await chip.getAttribute("data-state")) === "failed");
    assert.match(await chip.textContent(), /can't be sent/);
    assert.equal(await chip.locator('[role="alert"]').count(), 1);
    // With only a refused file, there is nothing to send.
    await frame.getByTestId("fd-send").click();
    assert.equal(await frame.locator('[data-testid="fd-message"][data-kind="visitor"]').count(), 1);
    await shot(visitor.page, "files-widget-refused");
    // It can be removed.
    await chip.getByRole("button", { name: "Remove logo.svg" }).click();
    await waitForCount(chip, 0, "the refused file to go");
    assert.deepEqual(visitor.pageErrors, []);
    assert.deepEqual(visitor.consoleErrors.filter((l) => !harmless(l)), []);
  });
});
