// The AWS SDK warns once per process that its 2027 releases need Node 22; in tests (and the
// CLI processes they spawn, which inherit this) it only buries real output. Production keeps it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
