// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {PropsRegistry} from "./PropsRegistry.sol";
import {MerkleLog} from "./MerkleLog.sol";

/// @title PropsEscrow
/// @notice ERC-20 payment per scoring job. The lender opens a job; `release` pays the data owner and the operator
/// only for a result naming that job and its nonce, vouched for by a valid enclave key of the job's pipeline —
/// by its EIP-712 signature or as a leaf of a transparency-log checkpoint that key posted. After the deadline
/// anyone can refund the lender. The escrow has no owner: no role can move escrowed funds.
/// @dev WARNING: only plain ERC-20 tokens (no fee-on-transfer or rebasing), or escrowed balances drift.
contract PropsEscrow is EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev Same type as RESULT_TYPES.PropsResult in protocol/eip712.ts.
    bytes32 public constant RESULT_TYPEHASH = keccak256(
        "PropsResult(bytes32 requestId,bytes32 nonce,bytes32 pipelineId,bytes32 resultHash,bytes32 inputCommitment,uint16 score,bool approved,uint64 issuedAt)"
    );

    enum Status {
        None,
        Open,
        Released,
        Refunded
    }

    /// @dev Four slots, all read once by `release`. The pipeline, nonce hash and input commitment are kept as one
    /// commitment (`terms = keccak256(abi.encode(pipelineId, keccak256(abi.encode(nonce)), inputCommitment))`, all but
    /// the nonce itself in the JobOpened event) to save storage reads.
    struct Job {
        address lender;
        uint64 deadline;
        Status status;
        address dataOwner;
        uint96 dataOwnerAmount;
        address operator;
        uint96 operatorAmount;
        bytes32 terms;
    }

    struct PropsResult {
        bytes32 requestId;
        bytes32 nonce;
        bytes32 pipelineId;
        bytes32 resultHash;
        bytes32 inputCommitment;
        uint16 score;
        bool approved;
        uint64 issuedAt;
    }

    /// @notice Where a batched result sits in a posted log checkpoint.
    struct LogProof {
        bytes32 keyId;
        uint64 treeSize;
        bytes32 root;
        uint256 leafIndex;
        bytes32[] path;
    }

    IERC20 public immutable token;
    PropsRegistry public immutable registry;

    mapping(uint256 jobId => Job) public jobs;
    uint256 public jobCount;

    event JobOpened(
        uint256 indexed jobId,
        address indexed lender,
        bytes32 indexed pipelineId,
        bytes32 nonceHash,
        bytes32 inputCommitment,
        address dataOwner,
        uint96 dataOwnerAmount,
        address operator,
        uint96 operatorAmount,
        uint64 deadline
    );
    event JobReleased(uint256 indexed jobId, bytes32 indexed keyId);
    event JobRefunded(uint256 indexed jobId, address indexed lender, uint256 amount);

    error EscrowJobInvalid();
    error EscrowPipelineInactive(bytes32 pipelineId);
    error EscrowJobNotOpen(uint256 jobId);
    error EscrowDeadlinePassed(uint256 jobId);
    error EscrowDeadlineNotReached(uint256 jobId);
    error EscrowWrongJob(uint256 jobId);
    /// @notice The result names another nonce, pipeline or input commitment than the job.
    error EscrowTermsMismatch(uint256 jobId);
    error EscrowSignatureInvalid();
    error EscrowCheckpointUnknown();
    error EscrowInclusionProofInvalid();

    constructor(IERC20 token_, PropsRegistry registry_) EIP712("Props", "1") {
        token = token_;
        registry = registry_;
    }

    /// @notice The commitment a job keeps to its pipeline, its nonce (by hash) and the inputs it pays to have scored.
    function jobTerms(bytes32 pipelineId, bytes32 nonceHash, bytes32 inputCommitment) external pure returns (bytes32) {
        return keccak256(abi.encode(pipelineId, nonceHash, inputCommitment));
    }

    /// @notice What `open` takes for a nonce: its hash, so the nonce stays the lender's until a result reveals it.
    function hashNonce(bytes32 nonce) external pure returns (bytes32) {
        return keccak256(abi.encode(nonce));
    }

    /// @notice Escrow `dataOwnerAmount + operatorAmount` from the caller for one scoring job.
    /// @dev WARNING: the nonce must be fresh and unpredictable (32 random bytes), and only its hash
    /// (`hashNonce(nonce) = keccak256(abi.encode(nonce))`) is given here: the lender hands the nonce to the enclave
    /// alone, so until a result reveals it at release no one else can have a result made that answers this job. (Were
    /// the nonce public, another lender with the borrower's consent for the same inputs could have its own scoring
    /// name this job and release it.) A log leaf is the result's struct hash, which carries no EIP-712 domain; the
    /// nonce is also what keeps a leaf paid here from matching a job with the same id on another escrow.
    /// `inputCommitment` names the inputs the lender pays to have scored (the one its consent names): a result for
    /// other inputs does not release this job.
    /// @return jobId The job id; a result answers it with `requestId = bytes32(jobId)`.
    function open(
        bytes32 pipelineId,
        bytes32 nonceHash,
        bytes32 inputCommitment,
        address dataOwner,
        uint96 dataOwnerAmount,
        address operator,
        uint96 operatorAmount,
        uint64 deadline
    ) external nonReentrant returns (uint256 jobId) {
        uint256 amount = uint256(dataOwnerAmount) + operatorAmount;
        if (amount == 0 || dataOwner == address(0) || operator == address(0) || deadline <= block.timestamp) {
            revert EscrowJobInvalid();
        }
        (,,,,, bool active,) = registry.pipelines(pipelineId);
        if (!active) revert EscrowPipelineInactive(pipelineId);
        jobId = ++jobCount;
        jobs[jobId] = Job(
            msg.sender,
            deadline,
            Status.Open,
            dataOwner,
            dataOwnerAmount,
            operator,
            operatorAmount,
            keccak256(abi.encode(pipelineId, nonceHash, inputCommitment))
        );
        emit JobOpened(
            jobId, msg.sender, pipelineId, nonceHash, inputCommitment, dataOwner, dataOwnerAmount, operator, operatorAmount, deadline
        );
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Pay for a result signed by enclave key (qx, qy): ECDSA P-256 over sha256(EIP-712 digest), low-s.
    function release(uint256 jobId, PropsResult calldata result, bytes32 qx, bytes32 qy, bytes32 r, bytes32 s)
        external
        nonReentrant
    {
        Job storage job = _checkOpenFor(jobId, result);
        bytes32 keyId = keccak256(abi.encodePacked(qx, qy));
        registry.requireValidKey(keyId, result.pipelineId);
        bytes32 digest = _hashTypedDataV4(_hashResult(result));
        if (!P256.verify(sha256(abi.encodePacked(digest)), r, s, qx, qy)) revert EscrowSignatureInvalid();
        _pay(jobId, job, keyId);
    }

    /// @notice Pay for a result that is a leaf of a log checkpoint posted by a valid key of the job's pipeline.
    /// The leaf is the RFC 9162 leaf hash of the result's EIP-712 struct hash.
    function releaseWithProof(uint256 jobId, PropsResult calldata result, LogProof calldata proof)
        external
        nonReentrant
    {
        Job storage job = _checkOpenFor(jobId, result);
        bytes32 keyId = registry.checkpointKey(keccak256(abi.encode(proof.keyId, proof.treeSize, proof.root)));
        if (keyId == bytes32(0)) revert EscrowCheckpointUnknown();
        registry.requireValidKey(keyId, result.pipelineId);
        (bool ok, bytes32 root) = MerkleLog.rootFromInclusionProof(
            proof.leafIndex, proof.treeSize, MerkleLog.leafHash(_hashResult(result)), proof.path
        );
        if (!ok || root != proof.root) revert EscrowInclusionProofInvalid();
        _pay(jobId, job, keyId);
    }

    /// @notice Return the escrow to the lender once the deadline has passed. Anyone may call; nothing can block it.
    function refund(uint256 jobId) external nonReentrant {
        Job storage job = jobs[jobId];
        if (job.status != Status.Open) revert EscrowJobNotOpen(jobId);
        if (block.timestamp <= job.deadline) revert EscrowDeadlineNotReached(jobId);
        job.status = Status.Refunded;
        uint256 amount = uint256(job.dataOwnerAmount) + job.operatorAmount;
        address lender = job.lender;
        emit JobRefunded(jobId, lender, amount);
        token.safeTransfer(lender, amount);
    }

    /// @notice The EIP-712 struct hash of a result (also its transparency-log leaf datum).
    function hashResult(PropsResult calldata result) external pure returns (bytes32) {
        return _hashResult(result);
    }

    /// @notice The EIP-712 digest the enclave key signs for a result, under this escrow's domain.
    function resultDigest(PropsResult calldata result) external view returns (bytes32) {
        return _hashTypedDataV4(_hashResult(result));
    }

    function _checkOpenFor(uint256 jobId, PropsResult calldata result) private view returns (Job storage job) {
        job = jobs[jobId];
        if (job.status != Status.Open) revert EscrowJobNotOpen(jobId);
        // Release and refund are split by the deadline, so a late release can never race a refund.
        if (block.timestamp > job.deadline) revert EscrowDeadlinePassed(jobId);
        if (result.requestId != bytes32(jobId)) revert EscrowWrongJob(jobId);
        if (keccak256(abi.encode(result.pipelineId, keccak256(abi.encode(result.nonce)), result.inputCommitment)) != job.terms) {
            revert EscrowTermsMismatch(jobId);
        }
    }

    function _pay(uint256 jobId, Job storage job, bytes32 keyId) private {
        job.status = Status.Released;
        emit JobReleased(jobId, keyId);
        if (job.dataOwnerAmount != 0) token.safeTransfer(job.dataOwner, job.dataOwnerAmount);
        if (job.operatorAmount != 0) token.safeTransfer(job.operator, job.operatorAmount);
    }

    function _hashResult(PropsResult calldata r) private pure returns (bytes32) {
        return keccak256(abi.encode(RESULT_TYPEHASH, r));
    }
}
