import { packScript } from "../packer.js";
import { lookup, VIDEO_POST } from "./catalogue.js";
import { type FakeHandler, html, type ProviderFake } from "./server.js";
import { TokenSessions } from "./session.js";

const sessions = new TokenSessions("tikmate_session");

/** GET / (`name="token"`), POST /abc.php → packed script: thumbnail link first, then the videos. */
const handler: FakeHandler = (request) => {
  if (request.method === "GET" && request.path === "/") {
    const { token, setCookie } = sessions.issue();
    return html(
      `<html><body><form method="post" action="/abc.php"><input type="hidden" name="token" value="${token}"><input name="url"></form></body></html>`,
      200,
      {
        "set-cookie": setCookie,
      },
    );
  }
  if (request.method !== "POST" || request.path !== "/abc.php") return html("", 404);
  const packed = (text: string) => ({
    ...html(packScript(text, { alphabet: "ZyxwvutsrQ", base: 4, offset: 12 })),
    type: "text/javascript",
  });
  if (!sessions.valid(request, request.form.get("token"))) return packed('alert("Session expired");');
  const found = lookup(request.form.get("url"));
  if (found.kind === "missing") return packed('alert("Video not found");');
  if (found.kind === "broken") return packed('$("#result").html("<p>Try again later</p>");');
  const post = found.post;
  return packed(
    `$("#result").html('<div class="videotikmate"><img src="${post.cover}"><a href="${post.play}">Download</a><a href="${post.hdplay}">Download HD</a></div>');`,
  );
};

export const tikmateFake: ProviderFake = {
  handler,
  expected: {
    video: () => ({ noWatermark: VIDEO_POST.play, hd: VIDEO_POST.hdplay }),
    photo: false,
    missing: [404, "NOT_FOUND"],
  },
};
