// A message the server could not say was stored (error `retry`) is sent again with the same
// client_id until it is acked. The server stores a client_id once, so a resend never doubles
// a message. The pause grows (1 s, 2 s, 4 s … up to 30 s, plus a random share) so that many
// pages do not return together to a server that is recovering.

const attempts = new Map();

// `resend()` sends the message again and returns true, or returns false when it is no longer
// waiting (acked, refused, or its chat ended): then nothing more is done for it.
export function resendLater(clientId, resend) {
  const attempt = (attempts.get(clientId) ?? 0) + 1;
  attempts.set(clientId, attempt);
  const wait = Math.min(30000, 1000 * 2 ** (attempt - 1));
  setTimeout(() => {
    if (!resend()) attempts.delete(clientId);
  }, wait + Math.random() * (wait / 2));
}

// It was acked: the next trouble starts again from a short pause.
export function resent(clientId) {
  attempts.delete(clientId);
}
