"""The Lambda Runtime API loop `layers run` starts on the local Python for python3.x functions.

It follows Lambda's Python runtime (awslambdaric): usage is
    python -I -S -B -u bootstrap.py TASK_ROOT OPT_SITE_PACKAGES OPT_PYTHON
- sys.path is the function's directory, then /opt/python/lib/pythonX.Y/site-packages and /opt/python
  (the layers), then the interpreter's standard library; the host's site-packages are not on it (-S),
  nor PYTHON* variables (-I), as on Lambda nothing of the build machine is.
- The handler named by _HANDLER (`module.function`, the module path with `/` or `.`) is imported once
  at start. An import failure is posted to /runtime/init/error (Runtime.ImportModuleError,
  Runtime.UserCodeSyntaxError, Runtime.MalformedHandlerName, or the exception's own type) and the
  process exits; a module without the function fails each invocation with Runtime.HandlerNotFound.
- Then loops: GET /runtime/invocation/next, call handler(event, context), POST the JSON result to
  /response (Decimal as float, else Runtime.MarshalError) or the error document {errorMessage,
  errorType, requestId, stackTrace} to /error, with the traceback's frames of this file left out.
- The context carries aws_request_id, function_name, function_version, invoked_function_arn,
  memory_limit_in_mb (a string, as Lambda's runtime gives it), log_group_name, log_stream_name,
  identity, client_context and get_remaining_time_in_millis(); _X_AMZN_TRACE_ID is set per invocation.
Only the standard library is used.
"""
import decimal
import http.client
import importlib
import json
import os
import site
import sys
import time
import traceback

BASE = "/2018-06-01/runtime"
ERROR_CONTENT_TYPE = "application/vnd.aws.lambda.error+json"
THIS_FILE = os.path.abspath(__file__)


class FaultException(Exception):
    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace


class Obj:
    """Attributes from a dict (client_context, identity), as Lambda's runtime builds them."""

    def __init__(self, values=None):
        for key, value in (values or {}).items():
            setattr(self, key, value)


class LambdaContext:
    def __init__(self, request_id, deadline_ms, invoked_function_arn, client_context, cognito_identity):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = None
        if client_context:
            self.client_context = Obj(client_context)
            self.client_context.client = Obj(client_context.get("client"))
        self.identity = Obj()
        if cognito_identity:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, message):
        sys.stdout.write(str(message))
        sys.stdout.flush()

    def __repr__(self):
        return "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s])" % (
            self.aws_request_id, self.log_group_name, self.log_stream_name, self.function_name, self.memory_limit_in_mb, self.function_version, self.invoked_function_arn)


class RuntimeApi:
    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.connection = http.client.HTTPConnection(host.strip("[]"), int(port))

    def request(self, method, path, body=None, headers=None):
        # The connection is kept alive; a server that closed it while the handler ran gets a new one.
        for attempt in (1, 2):
            try:
                self.connection.request(method, BASE + path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                return response.status, response.headers, response.read()
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                if attempt == 2:
                    raise

    def post(self, path, document, error_type=None):
        headers = {"Content-Type": ERROR_CONTENT_TYPE, "Lambda-Runtime-Function-Error-Type": error_type} if error_type else {"Content-Type": "application/json"}
        status, _, body = self.request("POST", path, document.encode("utf-8"), headers)
        if status >= 500:
            sys.stderr.write("Runtime API %s answered %d: %s; exiting.\n" % (path, status, body.decode("utf-8", "replace")))
            sys.exit(1)
        if status != 202:
            sys.stderr.write("Runtime API %s answered %d: %s\n" % (path, status, body.decode("utf-8", "replace")))


def make_error(message, error_type, stack_trace, request_id=None):
    return {"errorMessage": message or "", "errorType": error_type or "", "requestId": request_id or "", "stackTrace": stack_trace or []}


def fault_result(exc_info, request_id=None):
    error_type, value, tb = exc_info
    frames = traceback.extract_tb(tb)
    # Leave out the frames of this loop, as Lambda's runtime leaves out its bootstrap's.
    while frames and os.path.abspath(frames[0].filename) == THIS_FILE:
        frames = frames[1:]
    return make_error(str(value), error_type.__name__, traceback.format_list(frames), request_id)


def log_error(document):
    lines = ["[ERROR] %s: %s" % (document["errorType"], document["errorMessage"])]
    if document["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        lines.extend(line.rstrip("\n") for line in document["stackTrace"])
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


def load_handler(handler):
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as error:
        raise FaultException("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, error))
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise FaultException("Runtime.BuiltInModuleConflict", "Cannot use built-in module %s as a handler module" % module_name)
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise FaultException("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, error))
    except SyntaxError as error:
        trace = ['  File "%s" Line %s\n    %s' % (error.filename, error.lineno, error.text)]
        raise FaultException("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, error), trace)
    function = getattr(module, function_name, None)
    if function is None:
        fault = FaultException("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_name))

        def missing(event, context):
            raise fault

        return missing
    return function


def to_json(value):
    def default(item):
        if isinstance(item, decimal.Decimal):
            return float(item)
        raise TypeError(repr(item) + " is not JSON serializable")

    return json.dumps(value, default=default)


def handle(api, handler, headers, body):
    request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
    trace_id = headers.get("Lambda-Runtime-Trace-Id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    client_context = headers.get("Lambda-Runtime-Client-Context")
    cognito_identity = headers.get("Lambda-Runtime-Cognito-Identity")
    context = LambdaContext(request_id, int(headers.get("Lambda-Runtime-Deadline-Ms") or 0), headers.get("Lambda-Runtime-Invoked-Function-Arn"), json.loads(client_context) if client_context else None, json.loads(cognito_identity) if cognito_identity else None)
    try:
        event = json.loads(body.decode("utf-8")) if body else {}
    except ValueError as error:
        document = make_error("Unable to unmarshal input: %s" % error, "Runtime.UnmarshalError", None, request_id)
        log_error(document)
        api.post("/invocation/%s/error" % request_id, json.dumps(document), document["errorType"])
        return
    try:
        result = handler(event, context)
        try:
            payload = to_json(result)
        except (TypeError, ValueError) as error:
            raise FaultException("Runtime.MarshalError", "Unable to marshal response: %s" % error)
    except FaultException as fault:
        document = make_error(fault.msg, fault.exception_type, fault.trace, request_id)
    except Exception:
        document = fault_result(sys.exc_info(), request_id)
    else:
        api.post("/invocation/%s/response" % request_id, payload)
        return
    log_error(document)
    api.post("/invocation/%s/error" % request_id, json.dumps(document), document["errorType"])


def main():
    task_root, opt_site_packages, opt_python = sys.argv[1:4]
    if os.path.isdir(opt_site_packages):
        site.addsitedir(opt_site_packages)
    first = [task_root, opt_site_packages, opt_python]
    sys.path[:] = first + [entry for entry in sys.path if entry not in first]
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except FaultException as fault:
        document = make_error(fault.msg, fault.exception_type, fault.trace)
    except Exception:
        document = fault_result(sys.exc_info())
    else:
        document = None
    if document is not None:
        log_error(document)
        api.post("/init/error", json.dumps(document), document["errorType"])
        sys.exit(1)
    while True:
        status, headers, body = api.request("GET", "/invocation/next")
        if status != 200:
            sys.stderr.write("Runtime API /invocation/next answered %d: %s; exiting.\n" % (status, body.decode("utf-8", "replace")))
            sys.exit(1)
        handle(api, handler, headers, body)


if __name__ == "__main__":
    main()
