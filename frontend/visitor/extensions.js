// Where later features plug into the visitor page without editing main.js's flow: a feature
// module calls `addExtension(setup)`, and main.js imports that module. Each `setup` gets
// `{socket, session, t}` whenever a chat connection is made and can listen with `socket.on`.
// The helplines card (shown in <aside id="helplines"> when a message shows danger) is the
// first planned user.

const extensions = [];

export function addExtension(setup) {
  extensions.push(setup);
}

export function startExtensions(context) {
  for (const setup of extensions) {
    try {
      setup(context);
    } catch (error) {
      console.error("extension failed to start", error);
    }
  }
}
