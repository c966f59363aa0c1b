// The page /wasm.html in Node, for examples/chat's test: it loads
// wasm_exec.js and chat.wasm from the chat at the URL of argv[2], as the
// page does, and runs the Go client against a stand-in for the page's
// elements. It prints "status TEXT" when the status changes and
// "log TEXT" when a message is shown (TEXT in JSON), and types each line
// of its input (a JSON string) into the form.
"use strict";

const vm = require("vm");
const readline = require("readline");
const base = process.argv[2];

const print = (what, text) => console.log(what + " " + JSON.stringify(text));
const element = () => ({
	textContent: "", value: "", disabled: false, listeners: {},
	addEventListener(type, f) { this.listeners[type] = f; },
	removeEventListener(type, f) { if (this.listeners[type] === f) delete this.listeners[type]; },
	appendChild(child) { print("log", child.textContent); },
});
const page = { status: element(), log: element(), form: element(), text: element() };
let status = "";
Object.defineProperty(page.status, "textContent", {
	get() { return status; },
	set(s) { status = s; print("status", s); },
});
globalThis.document = {
	getElementById: (id) => page[id],
	createElement: () => ({ textContent: "" }),
};
globalThis.location = new URL(base + "/wasm.html");

readline.createInterface({ input: process.stdin }).on("line", (line) => {
	page.text.value = JSON.parse(line);
	const submit = page.form.listeners.submit;
	if (submit) submit({ preventDefault() {} });
});

(async () => {
	const js = await fetch(base + "/wasm_exec.js");
	if (!js.ok) throw new Error("wasm_exec.js: " + js.status);
	vm.runInThisContext(await js.text());
	const go = new Go();
	// instantiateStreaming refuses a response whose type is not application/wasm.
	const { instance } = await WebAssembly.instantiateStreaming(fetch(base + "/chat.wasm"), go.importObject);
	await go.run(instance);
	print("exit", page.text.disabled ? "input disabled" : "input enabled");
	process.exit(0);
})().catch((e) => {
	console.error(e);
	process.exit(1);
});
