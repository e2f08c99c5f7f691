import { randomUUID } from 'node:crypto';
import { TaskTokenError, type TaskTokens } from '#sandbox/asl-runner/task-tokens.js';
import {
  type AwsRequest,
  type AwsResponse,
  type EmulatedService,
  targetOperation,
} from '#sandbox/aws/service.js';
import {
  type Execution,
  type ExecutionStatus,
  type HistoryEvent,
  type LocalStateMachine,
  StepFunctionsError,
} from './executions.js';

const STATUSES: ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];
const seconds = (date: Date | undefined) => (date ? date.getTime() / 1000 : undefined);

function json(body: unknown, status = 200): AwsResponse {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify(body),
  };
}

function jsonError(code: string, message: string, status = 400): AwsResponse {
  return {
    status,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': randomUUID(),
      'x-amzn-errortype': code,
    },
    body: JSON.stringify({ __type: `com.amazonaws.swf.service.v2.model#${code}`, message }),
    errorCode: code,
  };
}

/** `nextToken` is an opaque offset, tied to the listing it came from. */
function page<T>(items: T[], params: Record<string, unknown>, scope: string) {
  const maxResults = Number(params.maxResults ?? 0);
  if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > 1000) {
    throw new StepFunctionsError('ValidationException', 'maxResults must be between 0 and 1000');
  }
  let start = 0;
  if (typeof params.nextToken === 'string') {
    const [tokenScope, offset] = Buffer.from(params.nextToken, 'base64url').toString().split('|');
    start = Number(offset);
    if (tokenScope !== scope || !Number.isInteger(start) || start < 0) {
      throw new StepFunctionsError('InvalidToken', 'Invalid Token');
    }
  }
  const size = maxResults === 0 ? 100 : maxResults;
  const end = start + size;
  return {
    items: items.slice(start, end),
    nextToken:
      end < items.length ? Buffer.from(`${scope}|${end}`).toString('base64url') : undefined,
  };
}

function executionListItem(execution: Execution) {
  return {
    executionArn: execution.executionArn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: seconds(execution.startDate),
    stopDate: seconds(execution.stopDate),
  };
}

function historyItem(event: HistoryEvent, includeData: boolean) {
  const { timestamp, ...rest } = event;
  const item: Record<string, unknown> = { timestamp: seconds(timestamp), ...rest };
  if (!includeData) {
    // includeExecutionData=false drops inputs and outputs, as Step Functions does.
    for (const [key, value] of Object.entries(item)) {
      if (!key.endsWith('EventDetails') || value === null || typeof value !== 'object') continue;
      const {
        input: _input,
        output: _output,
        parameters: _parameters,
        ...kept
      } = value as Record<string, unknown>;
      item[key] = kept;
    }
  }
  return item;
}

/**
 * AWS Step Functions (JSON 1.0, `X-Amz-Target: AWSStepFunctions.*`) for the sandbox's state
 * machines: list and describe them, start, describe, list, stop executions and read their
 * history, and answer the task tokens of callback tasks (SendTaskSuccess, SendTaskFailure,
 * SendTaskHeartbeat), so the SDK, the AWS CLI and the handlers see what they would see in AWS.
 */
export class StepFunctionsService implements EmulatedService {
  readonly signingName = 'states';
  readonly serviceName = 'stepfunctions';
  readonly operations = [
    'ListStateMachines',
    'DescribeStateMachine',
    'StartExecution',
    'DescribeExecution',
    'ListExecutions',
    'GetExecutionHistory',
    'StopExecution',
    'SendTaskSuccess',
    'SendTaskFailure',
    'SendTaskHeartbeat',
  ] as const;
  readonly operationOf = targetOperation;
  private readonly machines = new Map<string, LocalStateMachine>();

  constructor(private readonly tokens: TaskTokens) {}

  /** Adds a state machine (the sandbox boots the endpoint before its machine exists). */
  register(machine: LocalStateMachine): void {
    this.machines.set(machine.arn, machine);
  }

  async handle(request: AwsRequest): Promise<AwsResponse> {
    const target = request.headers['x-amz-target'] ?? '';
    const operation = target.startsWith('AWSStepFunctions.') ? target.slice(17) : '';
    try {
      const params = JSON.parse(request.body.toString('utf8') || '{}') as Record<string, unknown>;
      return json(this.dispatch(operation, params));
    } catch (error) {
      if (error instanceof StepFunctionsError) return jsonError(error.code, error.message);
      if (error instanceof TaskTokenError) return jsonError(error.code, error.message);
      if (error instanceof SyntaxError) return jsonError('SerializationException', error.message);
      throw error;
    }
  }

  private machine(arn: unknown): LocalStateMachine {
    const machine = typeof arn === 'string' ? this.machines.get(arn) : undefined;
    if (!machine) {
      throw new StepFunctionsError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${String(arn)}'`,
      );
    }
    return machine;
  }

  private machineOfExecution(executionArn: unknown): LocalStateMachine {
    if (typeof executionArn !== 'string') {
      throw new StepFunctionsError('ValidationException', 'executionArn is required');
    }
    // arn:aws:states:region:account:execution:machineName:executionName
    const parts = executionArn.split(':');
    const machineArn = `${parts.slice(0, 5).join(':')}:stateMachine:${parts[6] ?? ''}`;
    const machine = this.machines.get(machineArn);
    if (!machine || parts[5] !== 'execution') {
      throw new StepFunctionsError(
        'ExecutionDoesNotExist',
        `Execution Does Not Exist: '${executionArn}'`,
      );
    }
    return machine;
  }

  private dispatch(operation: string, params: Record<string, unknown>): unknown {
    switch (operation) {
      case 'ListStateMachines': {
        const machines = [...this.machines.values()].map((machine) => ({
          stateMachineArn: machine.arn,
          name: machine.name,
          type: 'STANDARD',
          creationDate: seconds(machine.creationDate),
        }));
        const { items, nextToken } = page(machines, params, 'machines');
        return { stateMachines: items, nextToken };
      }
      case 'DescribeStateMachine': {
        const machine = this.machine(params.stateMachineArn);
        return {
          stateMachineArn: machine.arn,
          name: machine.name,
          status: 'ACTIVE',
          definition: machine.definitionText,
          roleArn: machine.roleArn,
          type: 'STANDARD',
          creationDate: seconds(machine.creationDate),
          loggingConfiguration: { level: 'OFF', includeExecutionData: false },
          tracingConfiguration: { enabled: false },
        };
      }
      case 'StartExecution': {
        const machine = this.machine(params.stateMachineArn);
        const execution = machine.start(
          params.input as string | undefined,
          (params.name as string | undefined) ?? undefined,
        );
        return { executionArn: execution.executionArn, startDate: seconds(execution.startDate) };
      }
      case 'DescribeExecution': {
        const execution = this.machineOfExecution(params.executionArn).describe(
          params.executionArn as string,
        );
        return {
          ...executionListItem(execution),
          input: execution.input,
          inputDetails: { included: true },
          output: execution.output,
          outputDetails: execution.output === undefined ? undefined : { included: true },
          error: execution.error,
          cause: execution.cause,
        };
      }
      case 'ListExecutions': {
        const machine = this.machine(params.stateMachineArn);
        const statusFilter = params.statusFilter as ExecutionStatus | undefined;
        if (statusFilter !== undefined && !STATUSES.includes(statusFilter)) {
          throw new StepFunctionsError(
            'ValidationException',
            `Invalid statusFilter: ${statusFilter}`,
          );
        }
        const { items, nextToken } = page(
          machine.list(statusFilter).map(executionListItem),
          params,
          `executions:${machine.arn}:${statusFilter ?? ''}`,
        );
        return { executions: items, nextToken };
      }
      case 'GetExecutionHistory': {
        const execution = this.machineOfExecution(params.executionArn).describe(
          params.executionArn as string,
        );
        const includeData = params.includeExecutionData !== false;
        const events = execution.history.map((event) => historyItem(event, includeData));
        if (params.reverseOrder === true) events.reverse();
        const { items, nextToken } = page(
          events,
          params,
          `history:${execution.executionArn}:${params.reverseOrder === true}`,
        );
        return { events: items, nextToken };
      }
      case 'StopExecution': {
        const execution = this.machineOfExecution(params.executionArn).stop(
          params.executionArn as string,
          params.error as string | undefined,
          params.cause as string | undefined,
        );
        return { stopDate: seconds(execution.stopDate ?? new Date()) };
      }
      case 'SendTaskSuccess':
        this.tokens.succeed(params.taskToken, params.output);
        return {};
      case 'SendTaskFailure':
        this.tokens.fail(params.taskToken, params.error, params.cause);
        return {};
      case 'SendTaskHeartbeat':
        this.tokens.heartbeat(params.taskToken);
        return {};
      default:
        throw new StepFunctionsError(
          'UnknownOperationException',
          `The sandbox does not emulate Step Functions operation '${operation}'`,
        );
    }
  }
}
